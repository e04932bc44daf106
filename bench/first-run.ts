// npm run bench:first-run [-- --runs 5] [-- --suite]
//
// What a developer waits for on a built tree (after `npm ci`): `npm start` from spawn to the first
// answered GET /healthz (SQLite, no .env, a temporary directory), and the wall time of
// `npx octoplex --help` and `npx octoplex teams list`. Medians of --runs runs after one warm-up.
// `--suite` also runs `npm test` once and reports its wall time and the peak RSS of its process
// tree (minutes, and the whole machine: not run by default). Prints figures, asserts nothing.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { testEnv } from "../test/helpers/config";
import { runBench } from "./harness";
import { formatMs, mb, median } from "./stats";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "5" }, suite: { type: "boolean", default: false } } });
const runs = Number(args.runs);
const ROOT = join(__dirname, "..");
const ms = formatMs(0);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const npx = process.platform === "win32" ? "npx.cmd" : "npx";

// The checkout seen from a fresh directory: the SQLite file (./data) lands there, and no developer's
// .env is read or written. Node resolves the symlinks, so lib/ finds the checkout's node_modules.
const work = mkdtempSync(join(tmpdir(), "octoplex-first-run-"));
for (const name of ["package.json", "package-lock.json", "lib", "node_modules", "scripts", "src", "tsconfig.json", "tsconfig.build.json", "app.yml", "bin", "openapi.yaml"]) {
  symlinkSync(join(ROOT, name), join(work, name));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function stopTree(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      resolve();
    }
  });
}

/** `npm start` until GET /healthz answers 200. */
async function timeStart(): Promise<number> {
  const port = await freePort();
  const env = { ...process.env, ...testEnv({ PORT: String(port), LOG_LEVEL: "silent", NODE_ENV: "development" }) };
  delete env.DATABASE_URL;
  const began = performance.now();
  const child = spawn(npm, ["start"], { cwd: work, env, stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}: ${stderr.trim()}`);
      const answered = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false);
      if (answered) return performance.now() - began;
      if (performance.now() - began > 120_000) throw new Error(`no answer from /healthz in 120 s: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await stopTree(child);
  }
}

function timeCommand(command: string, argv: string[]): number {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const began = performance.now();
  execFileSync(command, argv, { cwd: work, env, stdio: ["ignore", "ignore", "pipe"] });
  return performance.now() - began;
}

async function medianOf(name: string, measure: () => number | Promise<number>): Promise<void> {
  await measure(); // warm-up: the file system cache, the SQLite file's migrations
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await measure());
  console.log(`${name.padEnd(28)} median ${ms(median(samples)).padStart(8)}   (${samples.map((s) => s.toFixed(0)).join(", ")} ms)`);
}

/** Sum of RSS over a process and its descendants, from /proc via ps. */
function treeRssBytes(rootPid: number): number {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid=,rss="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number));
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of rows) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const rss = new Map(rows.map(([pid, , kb]) => [pid, kb * 1024]));
  let total = 0;
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.pop()!;
    total += rss.get(pid) ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

async function timeSuite(): Promise<void> {
  const began = performance.now();
  const child = spawn(npm, ["test"], { cwd: ROOT, stdio: "inherit" });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, treeRssBytes(child.pid!))), 250);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearInterval(sampler);
  console.log(`npm test                     ${ms(performance.now() - began)} wall, peak RSS of its processes ${mb(peak)} (exit ${code})`);
}

async function main(): Promise<number> {
  // A built tree: what `npm ci` leaves (prepare builds), so npm start's prestart finds nothing to do.
  execFileSync(process.execPath, [join(ROOT, "scripts/build.js"), "--if-stale"], { stdio: "inherit" });
  console.log(`node ${process.version}, ${runs} runs after a warm-up, in ${work}`);
  await medianOf("npm start → GET /healthz", timeStart);
  await medianOf("npx octoplex --help", () => timeCommand(npx, ["octoplex", "--help"]));
  await medianOf("npx octoplex teams list", () => timeCommand(npx, ["octoplex", "teams", "list"]));
  if (args.suite) await timeSuite();
  return 0;
}

runBench(main, async () => rmSync(work, { recursive: true, force: true }));
