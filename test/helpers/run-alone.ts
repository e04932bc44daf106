import { readFileSync, unlinkSync, writeFileSync } from "node:fs";

/** Set by the global setup: the lock file that test files starting processes of their own take turns on. */
export const RUN_ALONE_LOCK_ENV = "OCTOPLEX_TEST_RUN_ALONE_LOCK";

/** How long a file waits for its turn: the longest of these files, on a loaded machine. */
const WAIT_MS = 15 * 60_000;
const POLL_MS = 200;

/**
 * For a test file that starts processes of its own (Octoplex children, worker pools, Chromium):
 * no two such files run at the same time, each in its own Jest worker, because two of them side by
 * side take the suite past its memory budget (1.5 GB for the whole process tree; measure it with
 * `npm run bench:suite-memory`). scripts/jest-sequencer.js spreads these files over the run, so a
 * worker seldom waits. Call it at the top of the file, before any describe: the turn is taken
 * before the file's own beforeAll hooks and given back after its afterAll hooks.
 */
export function runAlone(): void {
  const lock = process.env[RUN_ALONE_LOCK_ENV];
  if (!lock) return; // outside `jest` with the suite's global setup: nothing to share with
  beforeAll(() => acquire(lock), WAIT_MS);
  afterAll(() => release(lock));
}

function holder(lock: string): number | undefined {
  try {
    return Number(readFileSync(lock, "utf8")) || undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function acquire(lock: string): Promise<void> {
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    // A worker that died (killed, out of memory) holding the turn does not keep it.
    const pid = holder(lock);
    if (pid !== undefined && !alive(pid)) release(lock, pid);
    else await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function release(lock: string, pid = process.pid): void {
  if (holder(lock) !== pid) return;
  try {
    unlinkSync(lock);
  } catch {
    // already gone
  }
}
