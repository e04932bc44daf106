/**
 * A throwaway Postgres cluster of one test's own (initdb into a temporary directory, on a free
 * loopback port), for the tests that stop and start the database. The shared Postgres at
 * 127.0.0.1:5432 serves every other test and must never be stopped.
 *
 *   const pg = await startPrivatePostgres();      // initdb, start, CREATE DATABASE octoplex
 *   … DATABASE_URL = pg.url …
 *   await pg.stop();  await pg.start();          // a gap of our own choosing (pg_ctl stop -m fast, start)
 *   pg.freeze();  pg.thaw();                      // a server that stops answering (SIGSTOP), then goes on
 *   await pg.destroy();                          // stop -m immediate, remove the directory
 *
 * Postgres refuses to run as root: as root every pg_ctl/initdb runs as the `postgres` OS user
 * (runuser), in a directory it owns. A test run killed before destroy() leaves a cluster running
 * and its directory behind: the next start removes every leftover whose owning process is gone.
 */
import { execFile } from "node:child_process";
import { accessSync, appendFileSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { freePort } from "./e2e";

const DIR_PREFIX = "octoplex-private-pg-";
const OWNER_FILE = "owner.pid";
const DATABASE = "octoplex";
const RUN_AS = "postgres";

export interface PrivatePostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/octoplex (trust authentication). */
  url: string;
  /** `pg_ctl stop -m fast`: every connection is cut, the port stops listening. */
  stop(): Promise<void>;
  /** `pg_ctl start -w`: back on the same port, with the same data. */
  start(): Promise<void>;
  /** `pg_ctl restart -m fast`, the gap as short as Postgres makes it. */
  restart(): Promise<void>;
  /**
   * SIGSTOP to the postmaster and every process of it: connections stay open and new ones are
   * accepted by the kernel, but nothing answers (a hung server, or one behind a network partition).
   */
  freeze(): void;
  /** SIGCONT to them all. */
  thaw(): void;
  /** Stops the cluster (immediate) and removes its directory; safe to call twice. */
  destroy(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: Debian's /usr/lib/postgresql/<newest>/bin, else PATH. */
export function postgresBinDir(): string | undefined {
  const candidates: string[] = [];
  try {
    const versions = readdirSync("/usr/lib/postgresql")
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // not Debian's layout
  }
  candidates.push(...(process.env.PATH ?? "").split(":").filter(Boolean));
  return candidates.find((dir) => executable(join(dir, "initdb")) && executable(join(dir, "pg_ctl")));
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a private cluster cannot be made here, or undefined when it can. With CI=true a missing
 * initdb is a failure (this throws), as an unreachable shared Postgres or a missing Chromium is.
 */
export function privatePostgresUnavailable(): string | undefined {
  let reason: string | undefined;
  if (!postgresBinDir()) {
    reason = "initdb and pg_ctl are not installed (apt-get install -y postgresql)";
  } else if (isRoot() && !runAsUser()) {
    reason = `running as root, and there is no \`${RUN_AS}\` OS user for Postgres to run as`;
  }
  if (reason && process.env.CI === "true") throw new Error(`${reason}; CI=true requires the private-Postgres fault tests to run`);
  return reason;
}

/**
 * `describe` when a private cluster can be made, `describe.skip` with a warning that says why
 * when it cannot (outside CI). Under CI=true a missing initdb fails the test file at load.
 */
export function describeWithPrivatePostgres(title: string, body: () => void): void {
  const reason = privatePostgresUnavailable();
  if (reason === undefined) {
    describe(title, body);
    return;
  }
  console.warn(`\nSKIPPING "${title}": ${reason}. With CI=true this is a failure.\n`);
  describe.skip(title, body);
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function runAsUser(): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${RUN_AS}:`));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(":");
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

/** Runs a Postgres binary, as the postgres user when this process is root. */
function run(bin: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const [file, argv] = isRoot() ? ["runuser", ["-u", RUN_AS, "--", bin, ...args]] : [bin, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: timeoutMs, env: { ...process.env, LC_ALL: "C" } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${bin} ${args.join(" ")} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The postmaster of the cluster in `data` (its postmaster.pid) and every process whose parent it is. */
function clusterProcesses(data: string): number[] {
  const postmaster = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  const children = readdirSync("/proc").flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      // pid (comm) state ppid …: the name may hold spaces and parentheses, so read after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmaster ? [Number(entry)] : [];
    } catch {
      return []; // gone meanwhile
    }
  });
  return [postmaster, ...children];
}

/** Stops and removes the clusters of test runs that died before destroy(). */
export async function removeLeftoverClusters(): Promise<string[]> {
  const bin = postgresBinDir();
  const removed: string[] = [];
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    let owner: number | undefined;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), "utf8").trim());
    } catch {
      // No owner file: a start that died right after mkdtemp, or one that is about to write it
      // (or the directory is gone already).
      const stat = statSync(dir, { throwIfNoEntry: false });
      if (!stat || Date.now() - stat.mtimeMs < 60_000) continue;
    }
    if (owner !== undefined && Number.isInteger(owner) && owner > 0 && alive(owner)) continue;
    if (bin && existsSync(join(dir, "data", "postmaster.pid"))) {
      await run(join(bin, "pg_ctl"), ["-D", join(dir, "data"), "stop", "-m", "immediate", "-w", "-t", "20"]).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** initdb, start on a free port, create the `octoplex` database. Throws when the machine has no Postgres binaries. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("initdb is not installed");
  await removeLeftoverClusters();
  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
  const data = join(dir, "data");
  const logFile = join(dir, "postgres.log");
  const pgCtl = (...args: string[]) => run(join(bin, "pg_ctl"), ["-D", data, ...args]);
  let destroyed = false;
  const signal = (name: NodeJS.Signals) => {
    for (const pid of clusterProcesses(data)) process.kill(pid, name);
  };
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    // A stopped postmaster cannot stop.
    try {
      signal("SIGCONT");
    } catch {
      // not running
    }
    if (existsSync(join(data, "postmaster.pid"))) await pgCtl("stop", "-m", "immediate", "-w", "-t", "20").catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const user = isRoot() ? runAsUser() : undefined;
    if (user) chownSync(dir, user.uid, user.gid);
    await run(join(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);

    // Another process may take the port between the probe and the start: try a few.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      appendFileSync(
        join(data, "postgresql.conf"),
        [
          `port = ${port}`,
          "listen_addresses = '127.0.0.1'",
          `unix_socket_directories = '${dir}'`,
          "max_connections = 30",
          "shared_buffers = 16MB",
          // A throwaway cluster: durability across an OS crash is not what these tests are about.
          "fsync = off",
          "full_page_writes = off",
          "",
        ].join("\n"),
      );
      try {
        await pgCtl("start", "-w", "-t", "30", "-l", logFile);
        break;
      } catch (error) {
        const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
        if (!/could not bind|address already in use/i.test(log) || attempt >= 5) throw new Error(`${(error as Error).message}\n${log.slice(-2000)}`);
      }
    }

    const admin = new Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await admin.end();
    }

    return {
      port,
      url: `postgres://postgres@127.0.0.1:${port}/${DATABASE}`,
      stop: () => pgCtl("stop", "-m", "fast", "-w", "-t", "30").then(() => undefined),
      start: () => pgCtl("start", "-w", "-t", "30", "-l", logFile).then(() => undefined),
      restart: () => pgCtl("restart", "-m", "fast", "-w", "-t", "30", "-l", logFile).then(() => undefined),
      freeze: () => signal("SIGSTOP"),
      thaw: () => signal("SIGCONT"),
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}
