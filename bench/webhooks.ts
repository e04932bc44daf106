// npm run bench:webhooks [-- --duration 10] [--connections 10] [--rate 200] [--sqlite-only]
//
// Signed installation.created / installation_repositories.added deliveries (alternating, each with
// a fresh X-GitHub-Delivery) over loopback HTTP keep-alive, to (a) a bare Probot 13 app that only
// verifies and acknowledges: Probot's Server with an app that registers nothing (the baseline the
// goal is measured against, as in STACK.md pitfall 11) and, for scale, createNodeMiddleware on
// node:http; and (b) Octoplex
// (startServer with createDeps: verify, then the delivery ledger's group commit: deliveries that
// arrive while a transaction runs share the next one, committed in one round trip and each
// answered after that commit) on SQLite and on Postgres. The servers run in this process; the load generator
// (bench/webhook-load.ts) in a forked one. Per target: an unmeasured warm-up, then maximum
// throughput with `connections` requests in flight, then latency at a steady `rate` deliveries/s.
// Prints deliveries/s, p50/p99, the Octoplex / bare ratio and the goals (≥ 0.8× bare, p99 < 25 ms
// at 200/s); exits 1 when a delivery was not answered 2xx or Octoplex did not record every one.
import { fork, ChildProcess } from "node:child_process";
import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pino from "pino";
import { createNodeMiddleware, Probot, Server as ProbotServer } from "probot";
import { migrateLatest } from "../src/db/migrate";
import { createDeps, Deps } from "../src/deps";
import { startServer, RunningServer } from "../src/server";
import { testPrivateKey } from "../test/fixtures/keys";
import { TEST_APP_ID, TEST_WEBHOOK_SECRET, testConfig } from "../test/helpers/config";
import type { DatabaseKind, TestDatabase } from "../test/helpers/databases";
import { createBenchDatabase, reportProblems, runBench } from "./harness";
import { columns, formatMs, p50p99 } from "./stats";
import type { LoadRequest, LoadResult } from "./webhook-load";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "10" },
    rate: { type: "string", default: "200" },
    "sqlite-only": { type: "boolean", default: false },
  },
});
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const connections = Number(args.connections);
const rate = Number(args.rate);
const kinds: DatabaseKind[] = args["sqlite-only"] ? ["sqlite"] : ["sqlite", "postgres"];

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

interface Measured {
  name: string;
  perSecond: number;
  maxP50: number;
  maxP99: number;
  rateP50: number;
  rateP99: number;
  ok: number;
  problems: string[];
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
  const server = new ProbotServer({
    Probot: Probot.defaults({ appId: TEST_APP_ID, privateKey: testPrivateKey(), secret: TEST_WEBHOOK_SECRET, log: silent() }),
    log: silent(),
    port: 0,
    host: "127.0.0.1",
  });
  await server.load(() => undefined);
  const http = await server.start();
  return { name: "bare Probot 13 Server (baseline)", url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, close: () => closeServer(http) };
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

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
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

async function measure(target: Target): Promise<Measured> {
  const problems: string[] = [];
  const check = (label: string, r: LoadResult) => {
    for (const [why, n] of Object.entries(r.failures)) problems.push(`${target.name}, ${label}: ${n} × ${why}`);
  };
  const warm = await drive({ url: target.url, mode: "max", durationMs: warmupMs, connections, rate });
  check("warm-up", warm);
  // Where the server's time goes at full load: how busy its event loop is, and the CPU this
  // process (with its libuv threads: SQLite runs there) used, in cores.
  const loop0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const max = await drive({ url: target.url, mode: "max", durationMs, connections, rate });
  const loop = performance.eventLoopUtilization(loop0).utilization;
  const cpu = process.cpuUsage(cpu0);
  const cores = (cpu.user + cpu.system) / 1000 / max.elapsedMs;
  check("max throughput", max);
  const steady = await drive({ url: target.url, mode: "rate", durationMs, connections, rate });
  check(`${rate}/s`, steady);
  const ok = warm.ok + max.ok + steady.ok;
  if (target.recorded) {
    const recorded = await target.recorded();
    if (recorded !== ok) problems.push(`${target.name}: ${ok} deliveries answered 2xx but ${recorded} recorded`);
  }
  const [maxP50, maxP99] = p50p99(max.latenciesMs);
  const [rateP50, rateP99] = p50p99(steady.latenciesMs);
  const perSecond = max.ok / (max.elapsedMs / 1000);
  console.log(
    `${target.name}: ${perSecond.toFixed(0)} deliveries/s with ${connections} in flight (p50 ${ms(maxP50)}, p99 ${ms(maxP99)}; ` +
      `event loop ${(loop * 100).toFixed(0)}% busy, ${cores.toFixed(2)} cores, ${((loop * 1e6) / perSecond).toFixed(0)} µs of event loop per delivery); ` +
      `at ${rate}/s: p50 ${ms(rateP50)}, p99 ${ms(rateP99)} (${steady.ok}/${steady.sent} answered 2xx)`,
  );
  return { name: target.name, perSecond, maxP50, maxP99, rateP50, rateP99, ok, problems };
}

async function main(): Promise<number> {
  load = startLoad();
  console.log(
    `webhook benchmark: node ${process.version}, ${cpus().length} cores; servers in this process (pid ${process.pid}), ` +
      `load generator in a forked process (pid ${load.pid}, http.Agent keep-alive, pre-signed bodies); ` +
      `alternating installation.created / installation_repositories.added, fresh delivery ids; ` +
      `per target: ${warmupMs / 1000} s warm-up, ${durationMs / 1000} s at ${connections} in flight, ${durationMs / 1000} s at ${rate}/s ` +
      `(latency from each request's scheduled start)`,
  );
  const results: Measured[] = [];
  for (const start of [startProbotServer, startBareMiddleware]) {
    const bare = await start();
    results.push(await measure(bare));
    await bare.close();
  }
  for (const kind of kinds) {
    const target = await startOctoplex(kind);
    results.push(await measure(target));
    await target.close();
  }

  const base = results[0];
  console.log("");
  console.log(`${"".padEnd(40)} deliveries/s  ratio   p50@${rate}/s  p99@${rate}/s`);
  for (const r of results) {
    console.log(`  ${r.name.padEnd(38)} ${columns([r.perSecond.toFixed(0), `${(r.perSecond / base.perSecond).toFixed(2)}×`, ms(r.rateP50), ms(r.rateP99)], 11)}`);
  }
  console.log("");
  console.log(
    `baseline: ${base.name}, an app with no handlers (what \`probot run\` serves; STACK.md pitfall 11 measured ≈ 2,100–2,400/s there); ` +
      `Octoplex / bare createNodeMiddleware: ${results
        .slice(2)
        .map((r) => `${(r.perSecond / results[1].perSecond).toFixed(2)}× (${r.name.replace("Octoplex on ", "")})`)
        .join(", ")}`,
  );
  for (const r of results.slice(2)) {
    const ratio = r.perSecond / base.perSecond;
    console.log(
      `goal ${r.name}: ≥ ${GOAL_RATIO}× bare — ${ratio >= GOAL_RATIO ? "met" : "MISSED"} (${ratio.toFixed(2)}×); ` +
        `p99 < ${GOAL_P99_MS} ms at ${rate}/s — ${r.rateP99 < GOAL_P99_MS ? "met" : "MISSED"} (${ms(r.rateP99)})`,
    );
  }
  return reportProblems(results.flatMap((r) => r.problems), 10);
}

runBench(main, async () => {
  load?.kill();
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});
