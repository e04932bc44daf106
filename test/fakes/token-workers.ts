import { resolve } from "node:path";
import type { Config } from "../../src/config";
import { startWorkerPool, TimedRound, WorkerPool } from "./worker-pool";

const WORKER = resolve(__dirname, "token-worker.ts");

/** What a worker process is started with (JSON in argv[2]). */
export interface TokenWorkerConfig {
  database: Config["database"];
  /** The fake GitHub's origin: the worker's config gets it as GHE_HOST with protocol http. */
  githubUrl: string;
  /**
   * "shared": Octoplex's wiring (createDeps: installation tokens cached in the database);
   * "memory": Probot alone, with its own in-memory cache per process (the baseline).
   */
  cache: "shared" | "memory";
}

export interface TokenRound extends TimedRound {
  installationId: number;
  owner: string;
  repo: string;
  /** API actions in this process: probot.auth(installationId), then GET /repos/{owner}/{repo}. */
  calls: number;
  /** How many run at once in the process (1: one after another). */
  concurrency: number;
}

export interface TokenRoundResult {
  pid: number;
  ok: number;
  /** Each action's duration, token included, in the order they finished. */
  latenciesMs: number[];
  errors: string[];
}

/** One round in every process, all starting at one instant. */
export type TokenWorkers = WorkerPool<TokenRound, TokenRoundResult>;

/**
 * Starts `processes` workers and waits until each has built its Probot (and opened its database
 * connections), so that a round measures API actions and not start-up.
 */
export function startTokenWorkers(processes: number, config: TokenWorkerConfig): Promise<TokenWorkers> {
  return startWorkerPool<TokenRound, TokenRoundResult>({ name: "token worker", script: WORKER, config, processes, startDelayMs: 300 });
}
