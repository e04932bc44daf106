import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { testEnv } from "../../helpers/config";

const ROOT = join(__dirname, "../../..");

// A fresh process runs the command as the bin does, then names the heavy packages it loaded:
// jest's own module registry cannot tell what a real process would have loaded.
const CHILD = `
const { runCli } = require("./src/cli/main");
const io = { env: process.env, cwd: process.env.CLI_CWD, out() {}, err: (line) => process.stderr.write(line + "\\n") };
runCli(JSON.parse(process.env.CLI_ARGV), io, {}, "user").then(({ exitCode }) => {
  const loaded = new Set();
  for (const file of Object.keys(require.cache)) {
    const match = /[\\\\/]node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)[\\\\/]/.exec(file);
    if (match) loaded.add(match[1].replace(/\\\\/g, "/"));
  }
  process.stdout.write(JSON.stringify({ exitCode, loaded: [...loaded] }));
});
`;

async function packagesLoadedBy(argv: string[]): Promise<{ exitCode: number; loaded: string[] }> {
  const cwd = mkdtempSync(join(tmpdir(), "octoplex-cli-startup-"));
  try {
    // The app's identity is in the environment, as in a developer's .env.
    const env = { ...process.env, ...testEnv(), DATABASE_URL: "", CLI_CWD: cwd, CLI_ARGV: JSON.stringify(argv) };
    const { stdout } = await promisify(execFile)(process.execPath, ["-r", "./scripts/register-ts.js", "-e", CHILD], { cwd: ROOT, env });
    return JSON.parse(stdout) as { exitCode: number; loaded: string[] };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

describe("what an octoplex command loads", () => {
  test("--help loads neither Probot, Octokit, knex nor zod", async () => {
    const { exitCode, loaded } = await packagesLoadedBy(["--help"]);
    expect(exitCode).toBe(0);
    expect(loaded.filter((name) => /^(probot|@octokit\/|knex$|sqlite3$|pg$|zod$)/.test(name))).toEqual([]);
  }, 60_000);

  test("teams list reads the database without loading Probot or Octokit, though the app's id and key are set", async () => {
    const { exitCode, loaded } = await packagesLoadedBy(["teams", "list"]);
    expect(exitCode).toBe(0);
    expect(loaded).toEqual(expect.arrayContaining(["knex", "sqlite3"]));
    expect(loaded.filter((name) => /^(probot|@octokit\/)/.test(name))).toEqual([]);
  }, 60_000);
});
