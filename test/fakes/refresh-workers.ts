import { resolve } from "node:path";
import type { Config } from "../../src/config";
import { startWorkerPool, TimedRound } from "./worker-pool";

const WORKER = resolve(__dirname, "refresh-worker.ts");

/** What a worker process is started with (JSON in argv[2] or REFRESH_WORKER_CONFIG). */
export interface RefreshWorkerConfig {
  database: Config["database"];
  /** The fake GitHub's origin: the worker's config gets it as GHE_HOST with protocol http. */
  githubUrl: string;
  /** Run this one round, print its result and exit, instead of taking rounds from stdin. */
  run?: RoundRequest;
}

export interface RoundRequest extends TimedRound {
  userId: number;
  /** Concurrent getUserToken calls in the process. */
  concurrency: number;
}

export interface RoundResult {
  pid: number;
  /** The distinct tokens the callers got. */
  tokens: string[];
  /** Callers that got a token. */
  ok: number;
  /** Each caller's wait, from its call to its answer (or error). */
  waitsMs: number[];
  errors: string[];
}

export interface RefreshWorkers {
  /** One round: `concurrency` calls of getUserToken(userId) in every process, all starting at one instant. */
  run(userId: number, concurrency: number): Promise<RoundResult[]>;
  close(): Promise<void>;
}

export interface RefreshWorkersOptions {
  processes: number;
  database: Config["database"];
  githubUrl: string;
}

/**
 * Starts the worker processes and waits until each has its deps built and database connections
 * open, so a round measures getUserToken and not start-up. Rounds go over stdin, results come back
 * as JSON lines on stdout (worker-pool.ts).
 */
export async function startRefreshWorkers(options: RefreshWorkersOptions): Promise<RefreshWorkers> {
  const config: RefreshWorkerConfig = { database: options.database, githubUrl: options.githubUrl };
  const pool = await startWorkerPool<RoundRequest, RoundResult>({
    name: "refresh worker",
    script: WORKER,
    config,
    processes: options.processes,
    startDelayMs: 200,
  });
  return {
    run: (userId, concurrency) => pool.run({ userId, concurrency }),
    close: () => pool.close(),
  };
}
