// CPU time of processes on this machine, read from /proc: to tell, in a benchmark, which process
// (the server, the load generator, Postgres) used the machine's cores.
import { readdirSync, readFileSync } from "node:fs";

// Linux reports utime and stime in clock ticks of 1/100 s on every architecture Node runs on.
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of one process so far; 0 when it is gone or /proc is not there. */
export function cpuSecondsOf(pid: number): number {
  try {
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The processes whose command name is `name` (e.g. every Postgres backend and helper). */
export function pidsNamed(name: string): number[] {
  try {
    return readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === name;
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/**
 * CPU seconds used by processes from now until the returned function is called. `pids` is read
 * again at the end, so processes started meanwhile (a new backend) count from zero.
 */
export function cpuMeter(pids: () => number[]): () => number {
  const before = new Map(pids().map((pid) => [pid, cpuSecondsOf(pid)]));
  return () => pids().reduce((sum, pid) => sum + cpuSecondsOf(pid) - (before.get(pid) ?? 0), 0);
}
