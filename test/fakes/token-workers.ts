import { ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Config } from "../../src/config";

const ROOT = resolve(__dirname, "../..");
const WORKER = resolve(__dirname, "token-worker.ts");
const REGISTER_TS = resolve(ROOT, "scripts/register-ts.js");

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

export interface TokenRound {
  installationId: number;
  owner: string;
  repo: string;
  /** API actions in this process: probot.auth(installationId), then GET /repos/{owner}/{repo}. */
  calls: number;
  /** How many run at once in the process (1: one after another). */
  concurrency: number;
  /** Epoch ms at which every process starts at once (the race hides otherwise: STACK.md pitfall 12). */
  startAt?: number;
}

export interface TokenRoundResult {
  pid: number;
  ok: number;
  /** Each action's duration, token included, in the order they finished. */
  latenciesMs: number[];
  errors: string[];
}

/** One line of a worker's stdout. */
export type TokenWorkerMessage = { type: "ready"; pid: number } | ({ type: "result" } & TokenRoundResult);

export interface TokenWorkers {
  /** One round in every process, all starting at one instant. */
  run(round: Omit<TokenRound, "startAt">): Promise<TokenRoundResult[]>;
  close(): Promise<void>;
}

/**
 * Starts `processes` workers and waits until each has built its Probot (and opened its database
 * connections), so that a round measures API actions and not start-up.
 */
export async function startTokenWorkers(processes: number, config: TokenWorkerConfig): Promise<TokenWorkers> {
  const workers = Array.from({ length: processes }, () => startWorker(config));
  try {
    await Promise.all(workers.map((w) => w.next("ready")));
  } catch (error) {
    await Promise.all(workers.map((w) => w.stop()));
    throw error;
  }
  return {
    async run(round) {
      // Far enough ahead for the message to reach every process; not part of any action's latency.
      const timed: TokenRound = { ...round, startAt: Date.now() + 300 };
      const results = workers.map((w) => w.next("result"));
      for (const w of workers) w.send(timed);
      return (await Promise.all(results)).map(({ type: _type, ...result }) => result as TokenRoundResult);
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}

interface Worker {
  next<T extends TokenWorkerMessage["type"]>(type: T): Promise<Extract<TokenWorkerMessage, { type: T }>>;
  send(round: TokenRound): void;
  stop(): Promise<void>;
}

function startWorker(config: TokenWorkerConfig): Worker {
  const child: ChildProcess = spawn(process.execPath, ["-r", REGISTER_TS, WORKER, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const queued: TokenWorkerMessage[] = [];
  const waiting: Array<{ resolve: (m: TokenWorkerMessage) => void; reject: (e: Error) => void }> = [];
  let failure: Error | undefined;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));

  createInterface({ input: child.stdout! }).on("line", (line) => {
    let message: TokenWorkerMessage;
    try {
      message = JSON.parse(line) as TokenWorkerMessage;
    } catch {
      return; // not ours (a stray console.log)
    }
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(message);
    else queued.push(message);
  });
  child.once("exit", (code, signal) => {
    failure = new Error(`token worker ${child.pid} exited (${signal ?? code}) before answering:\n${stderr}`);
    for (const w of waiting.splice(0)) w.reject(failure);
  });

  return {
    async next(type) {
      const message = await new Promise<TokenWorkerMessage>((resolve, reject) => {
        const ready = queued.shift();
        if (ready) resolve(ready);
        else if (failure) reject(failure);
        else waiting.push({ resolve, reject });
      });
      if (message.type !== type) throw new Error(`token worker ${child.pid} sent ${message.type}, expected ${type}`);
      return message as Extract<TokenWorkerMessage, { type: typeof type }>;
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
