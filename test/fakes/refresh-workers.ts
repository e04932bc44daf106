import { ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Config } from "../../src/config";

const ROOT = resolve(__dirname, "../..");
const WORKER = resolve(__dirname, "refresh-worker.ts");
const REGISTER_TS = resolve(ROOT, "scripts/register-ts.js");

/** What a worker process is started with (JSON in argv[2] or REFRESH_WORKER_CONFIG). */
export interface RefreshWorkerConfig {
  database: Config["database"];
  /** The fake GitHub's origin: the worker's config gets it as GHE_HOST with protocol http. */
  githubUrl: string;
  /** Run this one round, print its result and exit, instead of taking rounds from stdin. */
  run?: RoundRequest;
}

export interface RoundRequest {
  userId: number;
  /** Concurrent getUserToken calls in the process. */
  concurrency: number;
  /** Epoch ms at which every process fires at once (the race hides otherwise: STACK.md pitfall 12). */
  startAt?: number;
}

/** One line of a worker's stdout. */
export type WorkerMessage = { type: "ready"; pid: number } | ({ type: "result" } & RoundResult);

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
 * as JSON lines on stdout.
 */
export async function startRefreshWorkers(options: RefreshWorkersOptions): Promise<RefreshWorkers> {
  const config: RefreshWorkerConfig = { database: options.database, githubUrl: options.githubUrl };
  const workers = Array.from({ length: options.processes }, () => startWorker(config));
  try {
    await Promise.all(workers.map((w) => w.next("ready")));
  } catch (error) {
    await Promise.all(workers.map((w) => w.stop()));
    throw error;
  }
  return {
    async run(userId, concurrency) {
      // Far enough ahead for the message to reach every process; not part of any caller's wait.
      const round: RoundRequest = { userId, concurrency, startAt: Date.now() + 200 };
      const results = workers.map((w) => w.next("result"));
      for (const w of workers) w.send(round);
      return (await Promise.all(results)).map(({ type: _type, ...result }) => result as RoundResult);
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}

interface Worker {
  next<T extends WorkerMessage["type"]>(type: T): Promise<Extract<WorkerMessage, { type: T }>>;
  send(round: RoundRequest): void;
  stop(): Promise<void>;
}

function startWorker(config: RefreshWorkerConfig): Worker {
  const child: ChildProcess = spawn(process.execPath, ["-r", REGISTER_TS, WORKER, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const queued: WorkerMessage[] = [];
  const waiting: Array<{ resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }> = [];
  let failure: Error | undefined;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));

  createInterface({ input: child.stdout! }).on("line", (line) => {
    let message: WorkerMessage;
    try {
      message = JSON.parse(line) as WorkerMessage;
    } catch {
      return; // not ours (a stray console.log)
    }
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(message);
    else queued.push(message);
  });
  child.once("exit", (code, signal) => {
    failure = new Error(`refresh worker ${child.pid} exited (${signal ?? code}) before answering:\n${stderr}`);
    for (const w of waiting.splice(0)) w.reject(failure);
  });

  return {
    async next(type) {
      const message = await new Promise<WorkerMessage>((resolve, reject) => {
        const ready = queued.shift();
        if (ready) resolve(ready);
        else if (failure) reject(failure);
        else waiting.push({ resolve, reject });
      });
      if (message.type !== type) throw new Error(`refresh worker ${child.pid} sent ${message.type}, expected ${type}`);
      return message as Extract<WorkerMessage, { type: typeof type }>;
    },
    send(round) {
      child.stdin!.write(`${JSON.stringify(round)}\n`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end(); // the worker closes its database and exits
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
