import { migrateLatest } from "../../src/db/migrate";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import { runCli as runBin } from "../../src/cli/main";
import { createKnex } from "../../src/db/knex";
import { testEnv } from "./config";
import { createTestDatabase, DatabaseKind, TestDatabase, truncateAll } from "./databases";
import { captureLogger } from "./log-capture";
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
  const { exitCode, error } = await runBin(argv, io, { Octokit: TestOctokit, log: captureLogger() }, "user");
  return { ...run, exitCode, error };
}

/** A database the CLI finds the way a deployment's does, plus a knex of the test's own on it. */
export interface CliTarget {
  kind: DatabaseKind;
  /** The CLI's working directory: SQLite lives at `<cwd>/data/octoplex.sqlite`. */
  cwd: string;
  /** A configured deployment's environment; DATABASE_URL only for Postgres. */
  env: NodeJS.ProcessEnv;
  /** The same database, for starting a server on it (startTestServer) next to the CLI. */
  database: TestDatabase;
  /** For seeding and inspecting; not migrated. */
  db: Knex;
  /** `octoplex <argv>` with `env`, changed by `extraEnv` (a value of undefined unsets it). */
  run(argv: string[], extraEnv?: NodeJS.ProcessEnv): Promise<CliRun>;
  close(): Promise<void>;
}

export async function createCliTarget(kind: DatabaseKind): Promise<CliTarget> {
  const cwd = mkdtempSync(join(tmpdir(), "octoplex-cli-"));
  const postgres = kind === "postgres" ? await createTestDatabase("postgres") : undefined;
  const env = postgres?.config.client === "postgres" ? testEnv({ DATABASE_URL: postgres.config.url }) : testEnv();
  const database: TestDatabase = postgres ?? {
    kind,
    config: { client: "sqlite", filename: join(cwd, "data", "octoplex.sqlite") },
    drop: async () => undefined, // close() removes cwd
  };
  const db = createKnex(database.config);
  return {
    kind,
    cwd,
    env,
    database,
    db,
    run: (argv, extraEnv = {}) => runCli(argv, { ...env, ...extraEnv }, cwd),
    async close() {
      await db.destroy();
      await database.drop();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/**
 * A migrated CLI target per describe block, emptied before each test (register seeding in a
 * beforeEach after this call: hooks run in order). Returns a getter, as hooks fill it later.
 */
export function useMigratedCliTarget(kind: DatabaseKind): () => CliTarget {
  let target: CliTarget;
  beforeAll(async () => {
    target = await createCliTarget(kind);
    await migrateLatest(target.db);
  });
  beforeEach(() => truncateAll(target.db));
  afterAll(() => target?.close());
  return () => target;
}
