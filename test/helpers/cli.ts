import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import { runCli as runBin } from "../../src/cli/main";
import { createKnex } from "../../src/db/knex";
import { testEnv } from "./config";
import { createTestDatabase, DatabaseKind } from "./databases";
import { TestOctokit } from "./test-octokit";

export interface CliRun {
  /** stdout, split into lines (a JSON document spans several). */
  out: string[];
  /** stderr, split into lines, including the message `octoplex` prints for a failure. */
  err: string[];
  /** What a terminal would show as overwriting progress; empty strings clear it. */
  progress: string[];
  /** The exit code the `octoplex` bin would return. */
  exitCode: number;
  /** What the command threw, if anything. */
  error?: unknown;
}

/** Runs `octoplex <argv>` in-process, as the bin does but with an Octokit that does not retry or throttle. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliRun> {
  const run: CliRun = { out: [], err: [], progress: [], exitCode: 0 };
  const io = {
    env,
    cwd,
    out: (line: string) => run.out.push(...line.split("\n")),
    err: (line: string) => run.err.push(...line.split("\n")),
    progress: (line: string) => run.progress.push(line),
  };
  const { exitCode, error } = await runBin(argv, io, { Octokit: TestOctokit }, "user");
  return { ...run, exitCode, error };
}

/** A database the CLI finds the way a deployment's does, plus a knex of the test's own on it. */
export interface CliTarget {
  kind: DatabaseKind;
  /** The CLI's working directory: SQLite lives at `<cwd>/data/octoplex.sqlite`. */
  cwd: string;
  /** A configured deployment's environment; DATABASE_URL only for Postgres. */
  env: NodeJS.ProcessEnv;
  /** For seeding and inspecting; not migrated. */
  db: Knex;
  run(argv: string[]): Promise<CliRun>;
  close(): Promise<void>;
}

export async function createCliTarget(kind: DatabaseKind): Promise<CliTarget> {
  const cwd = mkdtempSync(join(tmpdir(), "octoplex-cli-"));
  const postgres = kind === "postgres" ? await createTestDatabase("postgres") : undefined;
  const env = postgres?.config.client === "postgres" ? testEnv({ DATABASE_URL: postgres.config.url }) : testEnv();
  const db = createKnex(postgres?.config ?? { client: "sqlite", filename: join(cwd, "data", "octoplex.sqlite") });
  return {
    kind,
    cwd,
    env,
    db,
    run: (argv) => runCli(argv, env, cwd),
    async close() {
      await db.destroy();
      await postgres?.drop();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
