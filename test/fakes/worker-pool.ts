// The parent's side of a pool of worker processes (refresh-workers.ts, token-workers.ts): each runs
// `node -r ./scripts/register-ts.js <script> '<json config>'`, says "ready" once started, then takes
// rounds as JSON lines on stdin and answers each with one JSON line on stdout. The child's side is
// worker-child.ts.
import { ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { tsChildArgs } from "../helpers/ts-child";

const ROOT = resolve(__dirname, "../..");

/** One line of a worker's stdout. */
export type WorkerMessage<Result> = { type: "ready"; pid: number } | ({ type: "result" } & Result);

/** A round as the parent sends it: every process starts it at `startAt`. */
export interface TimedRound {
  /** Epoch ms at which every process starts at once (the race hides otherwise: STACK.md pitfall 12). */
  startAt?: number;
}

export interface WorkerPool<Round extends TimedRound, Result> {
  /** One round in every process, all starting at one instant. */
  run(round: Omit<Round, "startAt">): Promise<Result[]>;
  close(): Promise<void>;
}

export interface WorkerPoolOptions {
  /** What a worker is called in errors, e.g. "refresh worker". */
  name: string;
  /** The worker's script (absolute path). */
  script: string;
  /** Passed to every worker as JSON in argv[2]. */
  config: unknown;
  processes: number;
  /**
   * How far ahead of sending a round its start instant lies: far enough for the message to reach
   * every process; not part of anything a round measures.
   */
  startDelayMs: number;
}

/**
 * Starts the worker processes and waits until each says it is ready (its deps built, its database
 * connections open), so that a round measures the work and not start-up.
 */
export async function startWorkerPool<Round extends TimedRound, Result>(options: WorkerPoolOptions): Promise<WorkerPool<Round, Result>> {
  const workers = Array.from({ length: options.processes }, () => startWorker(options));
  try {
    await Promise.all(workers.map((w) => w.next("ready")));
  } catch (error) {
    await Promise.all(workers.map((w) => w.stop()));
    throw error;
  }
  return {
    async run(round) {
      const timed = { ...round, startAt: Date.now() + options.startDelayMs };
      const results = workers.map((w) => w.next("result"));
      for (const w of workers) w.send(timed);
      return (await Promise.all(results)).map(({ type: _type, ...result }) => result as Result);
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}

type Message = { type: WorkerMessage<unknown>["type"] } & Record<string, unknown>;

interface Worker {
  next(type: Message["type"]): Promise<Message>;
  send(round: TimedRound): void;
  stop(): Promise<void>;
}

function startWorker({ name, script, config }: WorkerPoolOptions): Worker {
  const child: ChildProcess = spawn(process.execPath, tsChildArgs(script, JSON.stringify(config)), {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const queued: Message[] = [];
  const waiting: Array<{ resolve: (m: Message) => void; reject: (e: Error) => void }> = [];
  let failure: Error | undefined;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));

  createInterface({ input: child.stdout! }).on("line", (line) => {
    let message: Message;
    try {
      message = JSON.parse(line) as Message;
    } catch {
      return; // not ours (a stray console.log)
    }
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(message);
    else queued.push(message);
  });
  child.once("exit", (code, signal) => {
    failure = new Error(`${name} ${child.pid} exited (${signal ?? code}) before answering:\n${stderr}`);
    for (const w of waiting.splice(0)) w.reject(failure);
  });

  return {
    async next(type) {
      const message = await new Promise<Message>((resolve, reject) => {
        const ready = queued.shift();
        if (ready) resolve(ready);
        else if (failure) reject(failure);
        else waiting.push({ resolve, reject });
      });
      if (message.type !== type) throw new Error(`${name} ${child.pid} sent ${message.type}, expected ${type}`);
      return message;
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
