// The child's side of a worker pool (worker-pool.ts), for refresh-worker.ts and token-worker.ts.
import { createInterface } from "node:readline";
import type { Knex } from "knex";
import type { TimedRound, WorkerMessage } from "./worker-pool";

/** Writes one line of the protocol to stdout. */
export function print<Result extends object>(message: WorkerMessage<Result>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Opens the connections now (Postgres pool up to 10) so that the first round does not pay for them. */
export async function openConnections(db: Knex): Promise<void> {
  await Promise.all(Array.from({ length: 10 }, () => db.raw("select 1")));
}

/** Waits for the round's start instant. */
export async function waitForStart(round: TimedRound): Promise<void> {
  const delay = (round.startAt ?? 0) - Date.now();
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
}

/**
 * Says "ready", then runs the rounds that come over stdin, one after another, printing each one's
 * result (or `failed(error)`'s); returns once stdin has closed (the parent is done) and the last
 * round has been answered.
 */
export async function serveRounds<Round, Result extends object>(runRound: (round: Round) => Promise<Result>, failed: (error: Error) => Result): Promise<void> {
  print<Result>({ type: "ready", pid: process.pid });
  const lines = createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  lines.on("line", (line) => {
    queue = queue.then(async () => {
      const result = await runRound(JSON.parse(line) as Round).catch(failed);
      print<Result>({ type: "result", ...result });
    });
  });
  await new Promise((resolve) => lines.once("close", resolve));
  await queue;
}

/** Runs the worker's main, then exits: 0 when it returns, 1 (the error on stderr) when it throws. */
export function runWorker(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
