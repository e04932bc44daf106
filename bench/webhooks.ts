// npm run bench:webhooks [-- --rounds 7] [--duration 4] [--connections 10,64] [--rate 200] [--rate-duration 10]
//                         [--only sqlite|postgres]
//
// Signed installation.created / installation_repositories.added deliveries (alternating, each with
// a fresh X-GitHub-Delivery) over loopback HTTP keep-alive, to (a) a bare Probot 13 app that only
// verifies and acknowledges: Probot's Server with an app that registers nothing (the baseline the
// goal is measured against, as in STACK.md pitfall 11) and, for scale, createNodeMiddleware on
// node:http; and (b) Octoplex (startServer with createDeps: verify, then the delivery ledger's
// group commit: deliveries that arrive while a transaction runs share the next one, committed in
// one round trip and each answered after that commit) on SQLite and on Postgres. The servers run
// in this process; the load generator (bench/webhook-load.ts) in a forked one.
//
// This machine's speed drifts by tens of percent within minutes, so the targets are measured in
// interleaved rounds: every round gives each target `duration` seconds at maximum throughput with
// each of `connections` requests in flight, in an order that rotates from round to round, and a
// ratio is taken between figures of the same round. Two levels, as they answer two questions: with
// 10 in flight a delivery's latency sets the pace, and Octoplex's includes a durable commit before
// it is answered; with 64 the CPU does, and batches grow. Reported: per target the median deliveries/s of the
// rounds and the median of its per-round ratios to the baseline; p50/p99 over every round's
// requests; then latency at a steady `rate` deliveries/s. Prints the goals (≥ 0.8× bare, p99 < 25 ms
// at 200/s); exits 1 when a delivery was not answered 2xx or Octoplex did not record every one.
import { fork, ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pino from "pino";
import { createNodeMiddleware, Probot } from "probot";
import { migrateLatest } from "../src/db/migrate";
import { createDeps, Deps } from "../src/deps";
import { startServer, RunningServer } from "../src/server";
import { testPrivateKey } from "../test/fixtures/keys";
import { TEST_APP_ID, TEST_WEBHOOK_SECRET, testConfig } from "../test/helpers/config";
import type { DatabaseKind, TestDatabase } from "../test/helpers/databases";
import { createBenchDatabase, reportProblems, runBench } from "./harness";
import { closeServer, startProbotBaseline } from "./probot-baseline";
import { cpuMeter, pidsNamed } from "./process-cpu";
import { columns, formatMs, median, p50p99 } from "./stats";
import type { LoadRequest, LoadResult } from "./webhook-load";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "7" },
    duration: { type: "string", default: "4" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "10,64" },
    rate: { type: "string", default: "200" },
    "rate-duration": { type: "string", default: "10" },
    only: { type: "string" },
    "sqlite-only": { type: "boolean", default: false },
  },
});
const rounds = Number(args.rounds);
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const levels = args.connections.split(",").map(Number);
if (levels.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--connections takes in-flight counts, comma-separated, not ${args.connections}`);
const rate = Number(args.rate);
const rateMs = Number(args["rate-duration"]) * 1000;
const only = args["sqlite-only"] ? "sqlite" : args.only;
if (only !== undefined && only !== "sqlite" && only !== "postgres") throw new Error(`--only takes sqlite or postgres, not ${only}`);
const kinds: DatabaseKind[] = only ? [only] : ["sqlite", "postgres"];

const GOAL_RATIO = 0.8;
const GOAL_P99_MS = 25;
const ms = formatMs(1);

interface Target {
  name: string;
  url: string;
  close(): Promise<void>;
  /** Octoplex: deliveries recorded in its ledger. */
  recorded?(): Promise<number>;
}

/** One target's figures of one round at maximum throughput. */
interface Round {
  perSecond: number;
  latenciesMs: number[];
  /** Share of the time this process's event loop was busy. */
  loop: number;
  /** CPU used, in cores: this process (with libuv's threads: SQLite runs there), the load generator, Postgres. */
  cores: number;
  loadCores: number;
  postgresCores: number;
}

interface Measured {
  target: Target;
  /** Per level of `levels`, its rounds. */
  rounds: Round[][];
  rateP50: number;
  rateP99: number;
}

let load: ChildProcess | undefined;
const cleanups: Array<() => Promise<void>> = [];
let nextInstallationId = 1;

function startLoad(): ChildProcess {
  return fork(join(__dirname, "webhook-load.ts"), [], {
    execArgv: ["-r", join(__dirname, "../scripts/register-ts.js")],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

function drive(req: Omit<LoadRequest, "secret" | "firstInstallationId">): Promise<LoadResult> {
  const full: LoadRequest = { ...req, secret: TEST_WEBHOOK_SECRET, firstInstallationId: nextInstallationId };
  nextInstallationId += 1_000_000; // ids of its own for every run
  return new Promise((resolve, reject) => {
    load!.once("message", (m: { result?: LoadResult; error?: string }) => (m.result ? resolve(m.result) : reject(new Error(m.error))));
    load!.send(full);
  });
}

const silent = () => pino({ level: "silent" });

/** What `probot run` serves: Probot's Server (express, pino-http) with an app that registers nothing. */
async function startProbotServer(): Promise<Target> {
  return { name: "bare Probot 13 Server (baseline)", ...(await startProbotBaseline()) };
}

/** The least Probot can do: createNodeMiddleware on node:http, verify and acknowledge. */
async function startBareMiddleware(): Promise<Target> {
  const probot = new Probot({ appId: TEST_APP_ID, privateKey: testPrivateKey(), secret: TEST_WEBHOOK_SECRET, log: silent() });
  const middleware = createNodeMiddleware(() => undefined, { probot });
  const server = createServer((req, res) =>
    middleware(req, res, () => {
      res.writeHead(404);
      res.end();
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { name: "bare createNodeMiddleware on node:http", url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => closeServer(server) };
}

async function startOctoplex(kind: DatabaseKind): Promise<Target> {
  const database: TestDatabase = await createBenchDatabase(kind, "use --sqlite-only, or set TEST_DATABASE_URL");
  cleanups.push(() => database.drop());
  const deps: Deps = createDeps(testConfig(database.config, { LOG_LEVEL: "silent", LOG_FORMAT: "json" }));
  cleanups.push(() => deps.close());
  await migrateLatest(deps.db);
  const running: RunningServer = await startServer(deps, 0, "127.0.0.1");
  return {
    name: `Octoplex on ${kind === "sqlite" ? "SQLite" : "Postgres"}`,
    url: running.url,
    close: () => closeServer(running.server),
    recorded: async () => Number((await deps.db("webhook_deliveries").count({ n: "*" }))[0].n),
  };
}

const problems: string[] = [];
const answered = new Map<Target, number>();

/** Drives one phase at `target`, noting failures and what it answered 2xx. */
async function phase(target: Target, label: string, mode: LoadRequest["mode"], ms: number, connections = levels[0]): Promise<LoadResult> {
  const result = await drive({ url: target.url, mode, durationMs: ms, connections, rate });
  for (const [why, n] of Object.entries(result.failures)) problems.push(`${target.name}, ${label}: ${n} × ${why}`);
  answered.set(target, (answered.get(target) ?? 0) + result.ok);
  return result;
}

async function maxRound(target: Target, round: number, connections: number): Promise<Round> {
  // The other processes on the machine's cores: the load generator, and Postgres (every backend
  // and helper of the server, whichever target runs).
  const loop0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const loadCpu = cpuMeter(() => [load!.pid!]);
  const postgresCpu = cpuMeter(() => pidsNamed("postgres"));
  const max = await phase(target, `round ${round} at ${connections} in flight`, "max", durationMs, connections);
  const seconds = max.elapsedMs / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    perSecond: max.ok / seconds,
    latenciesMs: max.latenciesMs,
    loop: performance.eventLoopUtilization(loop0).utilization,
    cores: (cpu.user + cpu.system) / 1e6 / seconds,
    loadCores: loadCpu() / seconds,
    postgresCores: postgresCpu() / seconds,
  };
}

/** Every Octoplex target recorded exactly the deliveries it answered 2xx. */
async function checkRecorded(targets: Target[]): Promise<void> {
  for (const target of targets) {
    if (!target.recorded) continue;
    const recorded = await target.recorded();
    const ok = answered.get(target) ?? 0;
    if (recorded !== ok) problems.push(`${target.name}: ${ok} deliveries answered 2xx but ${recorded} recorded`);
  }
}

/** The target's deliveries/s at level `l`: the median of its rounds. */
const perSecondOf = (m: Measured, l: number) => median(m.rounds[l].map((r) => r.perSecond));

function describe(m: Measured, l: number): string {
  const rounds = m.rounds[l];
  const perSecond = perSecondOf(m, l);
  const [p50, p99] = p50p99(rounds.flatMap((r) => r.latenciesMs));
  const loop = median(rounds.map((r) => r.loop));
  const of = (pick: (r: Round) => number) => median(rounds.map(pick)).toFixed(2);
  return (
    `${m.target.name}: ${perSecond.toFixed(0)} deliveries/s with ${levels[l]} in flight (median of ${rounds.length} rounds; p50 ${ms(p50)}, p99 ${ms(p99)}; ` +
    `event loop ${(loop * 100).toFixed(0)}% busy, ${((loop * 1e6) / perSecond).toFixed(0)} µs of it per delivery; cores: this process ${of((r) => r.cores)}, ` +
    `load generator ${of((r) => r.loadCores)}, Postgres ${of((r) => r.postgresCores)})`
  );
}

async function main(): Promise<number> {
  load = startLoad();
  console.log(
    `webhook benchmark: node ${process.version}, ${cpus().length} cores; servers in this process (pid ${process.pid}), ` +
      `load generator in a forked process (pid ${load.pid}, http.Agent keep-alive, pre-signed bodies); ` +
      `alternating installation.created / installation_repositories.added, fresh delivery ids; ` +
      `per target: ${warmupMs / 1000} s warm-up; ${rounds} interleaved rounds of ${durationMs / 1000} s at each of ${levels.join(", ")} in flight; ` +
      `then ${rateMs / 1000} s at ${rate}/s (latency from each request's scheduled start)`,
  );
  const targets: Target[] = [await startProbotServer(), await startBareMiddleware()];
  for (const kind of kinds) targets.push(await startOctoplex(kind));
  cleanups.push(async () => void (await Promise.all(targets.map((t) => t.close()))));
  for (const target of targets) await phase(target, "warm-up", "max", warmupMs);
  const results: Measured[] = targets.map((target) => ({ target, rounds: levels.map(() => []), rateP50: NaN, rateP99: NaN }));
  for (let round = 0; round < rounds; round++) {
    for (let l = 0; l < levels.length; l++) {
      // Rotated, so that no target always runs first, or right after the same one.
      for (let k = 0; k < results.length; k++) {
        const m = results[(round + k) % results.length];
        m.rounds[l].push(await maxRound(m.target, round + 1, levels[l]));
      }
    }
  }
  for (const m of results) {
    const steady = await phase(m.target, `${rate}/s`, "rate", rateMs);
    [m.rateP50, m.rateP99] = p50p99(steady.latenciesMs);
  }
  await checkRecorded(targets);

  const [base, middleware] = results;
  const ratios = (m: Measured, to: Measured, l: number) => m.rounds[l].map((r, i) => r.perSecond / to.rounds[l][i].perSecond);
  const goals: string[] = [];
  levels.forEach((inFlight, l) => {
    for (const m of results) console.log(describe(m, l));
    console.log("");
    console.log(`${`${inFlight} in flight`.padEnd(40)} deliveries/s  ratio  ratio in each round`);
    for (const m of results) {
      const each = ratios(m, base, l);
      console.log(`  ${m.target.name.padEnd(38)} ${columns([perSecondOf(m, l).toFixed(0), `${median(each).toFixed(2)}×`], 11)}  ${each.map((x) => x.toFixed(2)).join(" ")}`);
    }
    console.log("");
    for (const m of results.slice(2)) {
      const ratio = median(ratios(m, base, l));
      // Three digits when two would round a miss up to the goal.
      const shown = ratio < GOAL_RATIO && ratio.toFixed(2) === GOAL_RATIO.toFixed(2) ? ratio.toFixed(3) : ratio.toFixed(2);
      goals.push(`goal ${m.target.name}, ${inFlight} in flight: ≥ ${GOAL_RATIO}× bare — ${ratio >= GOAL_RATIO ? "met" : "MISSED"} (${shown}×, the median of ${rounds} rounds)`);
    }
  });
  console.log(`steady ${rate} deliveries/s for ${rateMs / 1000} s   p50        p99`);
  for (const m of results) console.log(`  ${m.target.name.padEnd(38)} ${columns([ms(m.rateP50), ms(m.rateP99)], 9)}`);
  for (const m of results.slice(2)) goals.push(`goal ${m.target.name}: p99 < ${GOAL_P99_MS} ms at ${rate}/s — ${m.rateP99 < GOAL_P99_MS ? "met" : "MISSED"} (${ms(m.rateP99)})`);
  console.log("");
  console.log(
    `baseline: ${base.target.name}, an app with no handlers (what \`probot run\` serves; STACK.md pitfall 11 measured ≈ 2,100–2,400/s there); ` +
      `Octoplex / bare createNodeMiddleware at ${levels.join(", ")} in flight: ${results
        .slice(2)
        .map((m) => `${levels.map((_, l) => `${median(ratios(m, middleware, l)).toFixed(2)}×`).join(", ")} (${m.target.name.replace("Octoplex on ", "")})`)
        .join("; ")}`,
  );
  for (const goal of goals) console.log(goal);
  return reportProblems(problems, 10);
}

runBench(main, async () => {
  load?.kill();
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});
