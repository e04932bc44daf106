import pino from "pino";
import { migrateLatest } from "../../src/db/migrate";
import { createDeps, Deps } from "../../src/deps";
import { FakeGithub, FakeGithubOptions, startFakeGithub } from "../fakes/fake-github";
import { installationApiRoutes } from "../fakes/github-installation-api";
import { githubEnv, testConfig } from "./config";
import { createTestDatabase, DatabaseKind, TestDatabase } from "./databases";
import { TestOctokit } from "./test-octokit";

/**
 * The parent's side of the cross-process tests and benchmarks (worker processes: test/fakes/worker-pool.ts):
 * a migrated database and a fake GitHub that the workers share, and this process's own deps on
 * both, to seed and to look.
 */
export interface WorkerHost {
  database: TestDatabase;
  github: FakeGithub;
  deps: Deps;
  /** Closes the deps and the fake GitHub, then drops the database. */
  close(): Promise<void>;
}

export interface WorkerHostOptions {
  github?: FakeGithubOptions;
  /** Serve the installation API (token mints, GET /repos/…) from the fake GitHub too. */
  installationApi?: boolean;
}

/** Starts the fake GitHub and migrates `database`, which it takes over: close (or a failure here) drops it. */
export async function startWorkerHost(database: TestDatabase, options: WorkerHostOptions = {}): Promise<WorkerHost> {
  let github: FakeGithub | undefined;
  let deps: Deps | undefined;
  const close = async () => {
    await deps?.close();
    await github?.close();
    await database.drop();
  };
  try {
    github = await startFakeGithub(options.github);
    if (options.installationApi) github.addRoutes(installationApiRoutes(github));
    deps = createDeps(testConfig(database.config, githubEnv(github.url)), { log: pino({ level: "silent" }), Octokit: TestOctokit });
    await migrateLatest(deps.db);
    return { database, github, deps, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/**
 * In a describe block: a fresh database of `kind`, the host on it and the workers `startWorkers`
 * starts, before all its tests; all of it closed after them.
 */
export function useWorkerHost<W extends { close(): Promise<void> }>(
  kind: DatabaseKind,
  startWorkers: (host: WorkerHost) => Promise<W>,
  options: WorkerHostOptions = {},
): () => WorkerHost & { workers: W } {
  let host: WorkerHost | undefined;
  let workers: W | undefined;

  beforeAll(async () => {
    host = await startWorkerHost(await createTestDatabase(kind), options);
    workers = await startWorkers(host);
  }, 60_000);

  afterAll(async () => {
    await workers?.close();
    await host?.close();
  });

  return () => {
    if (!host || !workers) throw new Error("the worker host is not running (its beforeAll failed?)");
    return { ...host, workers };
  };
}
