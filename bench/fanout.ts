// npm run bench:fanout [-- --rounds 3] [--duration 4] [--backlog 2] [--rate 100] [--rate-duration 10] [--only sqlite|postgres] [--ingestion-only]
//
// GitHub's events fanned out to teams (issue 22): signed `push` deliveries with fresh delivery ids,
// each for an installation linked to 10 teams that all subscribe to push and cover its repository
// (plus an 11th team, subscribed, whose scope lists another repository: it must get nothing), in
// through Octoplex (startServer + createDeps, in this process), out through its dispatcher (also in
// this process: one dispatcher) to a Standard Webhooks receiver in a forked process that verifies
// every signature (bench/fanout-receiver.ts). The load generator is bench/webhook-load.ts, forked.
// Per database:
//  (a) ingestion: deliveries/s with 64 in flight, against the bare Probot 13 Server of
//      bench:webhooks, in `rounds` interleaved rounds of `duration` s (dispatcher stopped; the
//      events written, 10 per delivery, are checked, then set aside as delivered);
//  (b) dispatch: a backlog of `backlog` s of pushes at full speed, then one dispatchDue: events/s
//      received between the 10th and the 90th percentile of arrivals (steady state); then the
//      dispatch loop running and `rate` deliveries/s for `rate-duration` s, twice: the time from each
//      delivery's acknowledgment to each of its events' first 2xx arrival, p50 and p99;
//  (c) isolation: the same with one team's events answered 500 throughout, alternating with (b)'s
//      runs; the other teams' p99 against (b)'s; the team's endpoint then recovers and its backlog
//      is retried at once;
//  (d) correctness over (b) and (c): every event received exactly once after de-duplication by
//      webhook-id, none unknown, per (team, repository) no request before the previous event was
//      accepted, none for the team whose scope does not cover the repository.
// Exits 1 when a correctness check failed or a delivery was not answered 2xx.
import { ChildProcess, fork } from "node:child_process";
import { cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pino from "pino";
import { migrateLatest } from "../src/db/migrate";
import { createDeps, Deps } from "../src/deps";
import { startDispatchLoop } from "../src/jobs/dispatch-loop";
import { addInstallationRepositories } from "../src/repositories/installation-repositories";
import { startServer } from "../src/server";
import { TEST_WEBHOOK_SECRET, testConfig } from "../test/helpers/config";
import type { DatabaseKind } from "../test/helpers/databases";
import { repositories, seedInstallation } from "../test/helpers/factories";
import { newPlatformSecret } from "../test/helpers/platform-receiver";
import { subscribedTeam } from "../test/helpers/team-events";
import type { Arrival, ReceiverCommand } from "./fanout-receiver";
import { createBenchDatabase, reportProblems, runBench } from "./harness";
import { startProbotBaseline } from "./probot-baseline";
import { cpuMeter, pidsNamed } from "./process-cpu";
import { formatMs, median, p50p99 } from "./stats";
import type { LoadRequest, LoadResult } from "./webhook-load";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "4" },
    backlog: { type: "string", default: "2" },
    rate: { type: "string", default: "100" },
    "rate-duration": { type: "string", default: "10" },
    only: { type: "string" },
    "ingestion-only": { type: "boolean", default: false },
  },
});
const ROUNDS = Number(args.rounds);
const DURATION_MS = Number(args.duration) * 1000;
const BACKLOG_MS = Number(args.backlog) * 1000;
const RATE = Number(args.rate);
const RATE_MS = Number(args["rate-duration"]) * 1000;
if (args.only !== undefined && args.only !== "sqlite" && args.only !== "postgres") throw new Error(`--only takes sqlite or postgres, not ${args.only}`);
const kinds: DatabaseKind[] = args.only ? [args.only as DatabaseKind] : ["sqlite", "postgres"];

const TEAMS = 10;
const REPOSITORIES = 20; // the last one is never pushed to: the 11th team's scope
const IN_FLIGHT = 64;
const GOAL_RATIO = 0.8;
const GOAL_EVENTS_PER_SECOND = 1000;
const GOAL_P99_MS = 1000;
const GOAL_ISOLATION = 1.5;
const ms = formatMs(0);

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
const problems: string[] = [];

function forkChild(file: string): ChildProcess {
  const child = fork(join(__dirname, file), [], { execArgv: ["-r", join(__dirname, "../scripts/register-ts.js")], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.push(child);
  return child;
}

function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once("message", (m: T & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    child.send(message as object);
  });
}

const load = () => children[0];
const receiver = () => children[1];
const tell = (command: ReceiverCommand) => ask<{ url?: string; arrivals?: Arrival[] }>(receiver(), command);

async function drive(label: string, req: Partial<LoadRequest> & Pick<LoadRequest, "url" | "mode" | "durationMs">): Promise<LoadResult> {
  const { result } = await ask<{ result: LoadResult }>(load(), { connections: IN_FLIGHT, rate: RATE, secret: TEST_WEBHOOK_SECRET, firstInstallationId: 1, ...req });
  for (const [why, n] of Object.entries(result.failures)) problems.push(`${label}: ${n} × ${why}`);
  return result;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An installation with REPOSITORIES repositories and TEAMS teams subscribed to push, scope "all"; their ids. */
async function seed(deps: Deps, installationId: number, outsider: boolean) {
  const repos = repositories(REPOSITORIES, { firstId: installationId * 100 });
  await seedInstallation(deps.db, installationId);
  await addInstallationRepositories(deps.db, installationId, repos);
  const teams: number[] = [];
  for (let t = 0; t < TEAMS; t++) teams.push(await subscribedTeam(deps.db, `i${installationId}-team${t}`, installationId));
  const notCovering = outsider ? await subscribedTeam(deps.db, `i${installationId}-outsider`, installationId, { scope: [repos[REPOSITORIES - 1].id] }) : undefined;
  return { installationId, teams, notCovering, pushed: repos.slice(0, REPOSITORIES - 1).map((r) => ({ id: r.id, name: r.fullName.split("/")[1] })) };
}

const pendingCount = async (deps: Deps, exceptTeam?: number) =>
  Number((await deps.db("outbox_events").where({ status: "pending" }).modify((q) => (exceptTeam ? q.whereNot({ team_id: exceptTeam }) : q)).count({ n: "*" }))[0].n);

/** Per event, the first 2xx arrival minus its delivery's acknowledgment, for the teams `keep` keeps. */
function endToEnd(arrivals: Arrival[], acks: Record<string, number>, keep: (teamId: number) => boolean): number[] {
  const first = new Map<string, Arrival>();
  for (const a of arrivals) if (a[3] === 200 && !first.has(a[0])) first.set(a[0], a);
  return [...first.values()].filter((a) => keep(a[1]) && acks[a[2]] !== undefined).map((a) => a[4] - acks[a[2]]);
}

async function runOn(kind: DatabaseKind, baselineUrl: string): Promise<string[]> {
  const label = kind === "sqlite" ? "SQLite" : "Postgres";
  const database = await createBenchDatabase(kind, "use --only sqlite, or set TEST_DATABASE_URL");
  cleanups.push(() => database.drop());
  const secret = newPlatformSecret();
  const { url } = await tell({ secret });
  const deps = createDeps(testConfig(database.config, { LOG_LEVEL: "silent", LOG_FORMAT: "json", PLATFORM_WEBHOOK_URL: url!, PLATFORM_WEBHOOK_SECRET: secret }));
  cleanups.push(() => deps.close());
  await migrateLatest(deps.db);
  const running = await startServer(deps, 0, "127.0.0.1");
  cleanups.push(() => running.close());
  const ingest = await seed(deps, 900_001, false);
  const bench = await seed(deps, 900_002, true);
  const dispatcher = deps.services.dispatcher!;
  const lines: string[] = [];

  // (a) ingestion, interleaved with the baseline.
  const push = (s: typeof ingest) => ({ installationId: s.installationId, repositories: s.pushed });
  await drive(`${label} warm-up`, { url: running.url, mode: "max", durationMs: 2_000, push: push(ingest) });
  await drive("baseline warm-up", { url: baselineUrl, mode: "max", durationMs: 2_000, push: push(ingest) });
  const ratios: number[] = [];
  const rates: Array<[number, number]> = [];
  // Where the time goes: CPU seconds of this process (server, and the database on SQLite), the
  // load generator and Postgres, per delivery acknowledged, for each server.
  const ingestionCpu: Record<string, { deliveries: number; server: number; load: number; postgres: number }> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ["base", "octoplex"] : ["octoplex", "base"];
    const perSecond: Record<string, number> = {};
    for (const who of order) {
      const meters = [cpuMeter(() => [process.pid]), cpuMeter(() => pidsNamed("postgres"))];
      const result = await drive(`${label} ingestion round ${round + 1} (${who})`, { url: who === "base" ? baselineUrl : running.url, mode: "max", durationMs: DURATION_MS, push: push(ingest) });
      const [server, postgres] = meters.map((m) => m());
      const loadSeconds = result.cpuSeconds;
      const c = (ingestionCpu[who] ??= { deliveries: 0, server: 0, load: 0, postgres: 0 });
      Object.assign(c, { deliveries: c.deliveries + result.ok, server: c.server + server, load: c.load + loadSeconds, postgres: c.postgres + postgres });
      perSecond[who] = result.ok / (result.elapsedMs / 1000);
    }
    rates.push([perSecond.octoplex, perSecond.base]);
    ratios.push(perSecond.octoplex / perSecond.base);
  }
  const acked = Number((await deps.db("webhook_deliveries").count({ n: "*" }))[0].n);
  const written = Number((await deps.db("outbox_events").whereIn("team_id", ingest.teams).count({ n: "*" }))[0].n);
  if (written !== acked * TEAMS) problems.push(`${label}: ${acked} deliveries acknowledged but ${written} events written (expected ${acked * TEAMS})`);
  await deps.db("outbox_events").where({ status: "pending" }).update({ status: "delivered", delivered_at: new Date().toISOString() });
  // That UPDATE is the benchmark's own: it leaves every event of (a) dead in the index of pending
  // events, which the dispatcher walks. Autovacuum clears them after 5,000 (the migration's
  // setting); this machine's Postgres runs with autovacuum off, so the benchmark vacuums as it
  // would. (b) and (c) then run with no vacuum at all: their own dead rows stay.
  let setAside: string | undefined;
  if (kind === "postgres") {
    const autovacuum = (await deps.db.raw("show autovacuum")).rows[0].autovacuum as string;
    await deps.db.raw("vacuum (analyze) outbox_events");
    setAside = `    (a)'s events then set aside as delivered by one UPDATE, and outbox_events vacuumed once (this Postgres runs with autovacuum ${autovacuum}); no vacuum after that`;
  }
  const ratio = median(ratios);
  lines.push(
    `(a) ingestion, ${IN_FLIGHT} in flight: Octoplex ${median(rates.map((r) => r[0])).toFixed(0)} deliveries/s (${(median(rates.map((r) => r[0])) * TEAMS).toFixed(0)} events written/s), ` +
      `bare Probot ${median(rates.map((r) => r[1])).toFixed(0)}/s; ratio ${ratio.toFixed(2)}× (rounds: ${ratios.map((r) => r.toFixed(2)).join(" ")}); ${written.toLocaleString("en")} events for ${acked.toLocaleString("en")} deliveries`,
    `    CPU per delivery (µs): ` +
      (["octoplex", "base"] as const)
        .map((who) => {
          const c = ingestionCpu[who];
          const us = (seconds: number) => ((seconds * 1e6) / Math.max(1, c.deliveries)).toFixed(0);
          return `${who === "base" ? "bare Probot" : "Octoplex"} ${us(c.server + c.postgres + c.load)} = server process ${us(c.server)} + Postgres ${us(c.postgres)} + load generator ${us(c.load)}`;
        })
        .join("; "),
    `    goal ≥ ${GOAL_RATIO}× bare: ${ratio >= GOAL_RATIO ? "met" : "MISSED"}`,
  );
  if (setAside) lines.push(setAside);
  if (args["ingestion-only"]) return [`on ${label}:`, ...lines.map((l) => `  ${l}`)];
  const allArrivals: Arrival[] = [];
  const take = async () => {
    const { arrivals } = await tell({ take: true });
    allArrivals.push(...arrivals!);
    return arrivals!;
  };
  await take(); // nothing yet: the dispatcher has not run

  // (b) throughput: a backlog, drained by one dispatchDue.
  const backlog = await drive(`${label} backlog`, { url: running.url, mode: "max", durationMs: BACKLOG_MS, push: push(bench) });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const receiverCpu = cpuMeter(() => [receiver().pid!]);
  const postgresCpu = cpuMeter(() => pidsNamed("postgres"));
  const report = await dispatcher.dispatchDue();
  const drainSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const perEvent = (seconds: number) => `${((seconds * 1e6) / Math.max(1, report.delivered)).toFixed(0)} µs`;
  const [dispatcherSeconds, receiverSeconds, postgresSeconds] = [(cpu.user + cpu.system) / 1e6, receiverCpu(), postgresCpu()];
  const drained = await take();
  const times = drained.filter((a) => a[3] === 200).map((a) => a[4]).sort((x, y) => x - y);
  const [from, to] = [times[Math.floor(times.length * 0.1)], times[Math.floor(times.length * 0.9)]];
  const steady = (Math.floor(times.length * 0.9) - Math.floor(times.length * 0.1)) / ((to - from) / 1000);
  lines.push(
    `(b) dispatch of a backlog of ${(backlog.ok * TEAMS).toLocaleString("en")} events (${backlog.ok} deliveries × ${TEAMS} teams): ${report.delivered.toLocaleString("en")} delivered in ${drainSeconds.toFixed(1)} s ` +
      `(${(report.delivered / drainSeconds).toFixed(0)}/s overall), ${steady.toFixed(0)} events/s at steady state (10th–90th percentile of arrivals)`,
    `    CPU per event delivered: dispatcher process ${perEvent(dispatcherSeconds)} (${(dispatcherSeconds / drainSeconds).toFixed(2)} cores; one core would send ≈ ${(report.delivered / dispatcherSeconds).toFixed(0)}/s), ` +
      `receiver ${perEvent(receiverSeconds)}, Postgres (all its processes, other work on the machine included) ${perEvent(postgresSeconds)}; the machine's other work takes the rest`,
    `    goal ≥ ${GOAL_EVENTS_PER_SECOND} events/s: ${steady >= GOAL_EVENTS_PER_SECOND ? "met" : "MISSED"}`,
  );

  // (b) latency, then (c) isolation, with the dispatch loop of `npm start` running.
  const loop = startDispatchLoop(dispatcher, pino({ level: "silent" }));
  cleanups.push(() => loop.stop());
  const steadyRun = async (failingTeam?: number) => {
    await tell({ failing: failingTeam ? [failingTeam] : [] });
    const result = await drive(`${label} ${RATE}/s`, { url: running.url, mode: "rate", durationMs: RATE_MS, push: push(bench), recordAcks: true });
    await waitFor(async () => (await pendingCount(deps, failingTeam)) === 0, "the events sent");
    return { result, arrivals: await take() };
  };
  // Runs without and with the failing team alternate (twice each), so that the machine's drift
  // does not fall on one side; each side's latencies are pooled.
  const failingTeam = bench.teams[0];
  const others = (teamId: number) => teamId !== failingTeam;
  const cleanRuns: Array<Awaited<ReturnType<typeof steadyRun>>> = [];
  const failingRuns: Array<Awaited<ReturnType<typeof steadyRun>>> = [];
  // After each run with it, the team's endpoint recovers and its backlog is retried now rather than
  // after its backoff (as `octoplex events retry` would), so that it does not weigh on the next run.
  const recover = async () => {
    await tell({ failing: [] });
    await deps.db("outbox_events").where({ status: "pending" }).update({ next_attempt_at: new Date().toISOString() });
    await waitFor(async () => (await pendingCount(deps)) === 0, "the failing team's events after it recovered");
    await take();
  };
  for (let pair = 0; pair < 2; pair++) {
    cleanRuns.push(await steadyRun());
    failingRuns.push(await steadyRun(failingTeam));
    await recover();
  }
  const latencies = (runs: typeof cleanRuns, keep: (teamId: number) => boolean) => runs.flatMap((r) => endToEnd(r.arrivals, r.result.acks!, keep));
  const [p50, p99] = p50p99(latencies(cleanRuns, () => true));
  lines.push(
    `(b) end to end at ${RATE} deliveries/s × ${TEAMS} teams, 2 runs of ${RATE_MS / 1000} s, from the delivery's acknowledgment to the receiver: p50 ${ms(p50)}, p99 ${ms(p99)} ` +
      `(p99 of each run: ${cleanRuns.map((r) => ms(p50p99(endToEnd(r.arrivals, r.result.acks!, () => true))[1])).join(", ")})`,
    `    goal p99 < ${GOAL_P99_MS} ms: ${p99 < GOAL_P99_MS ? "met" : "MISSED"}`,
  );
  const [, p99Clean] = p50p99(latencies(cleanRuns, others));
  const [o50, o99] = p50p99(latencies(failingRuns, others));
  const refused = failingRuns.flatMap((r) => r.arrivals).filter((a) => a[1] === failingTeam).length;
  lines.push(
    `(c) one team answered 500 throughout, 2 runs alternating with (b)'s (${refused} attempts refused): the other teams' p50 ${ms(o50)}, p99 ${ms(o99)}, ` +
      `against p99 ${ms(p99Clean)} in (b): ${(o99 / p99Clean).toFixed(2)}× (p99 of each run: ${failingRuns.map((r) => ms(p50p99(endToEnd(r.arrivals, r.result.acks!, others))[1])).join(", ")})`,
    `    goal ≤ ${GOAL_ISOLATION}×: ${o99 <= GOAL_ISOLATION * p99Clean ? "met" : "MISSED"}`,
  );
  await loop.stop();
  await take();

  // (d) correctness over every event of the bench installation.
  const events = (await deps.db("outbox_events").whereIn("team_id", [...bench.teams, bench.notCovering!]).orderBy("id").select("id", "message_id", "team_id", "ordering_key")) as Array<{
    id: number;
    message_id: string;
    team_id: number;
    ordering_key: string;
  }>;
  const deliveries = backlog.ok + [...cleanRuns, ...failingRuns].reduce((sum, r) => sum + r.result.ok, 0);
  const found = verify(events, allArrivals, deliveries, bench.notCovering!);
  lines.push(`(d) correctness: ${found.length === 0 ? "every check passed" : `${found.length} problem(s)`} — ${events.length.toLocaleString("en")} events for ${deliveries.toLocaleString("en")} deliveries, ` +
    `${allArrivals.length.toLocaleString("en")} requests (${allArrivals.filter((a) => a[3] === 200).length - new Set(allArrivals.filter((a) => a[3] === 200).map((a) => a[0])).size} accepted twice)`);
  problems.push(...found.map((p) => `${label}: ${p}`));
  return [`on ${label}:`, ...lines.map((l) => `  ${l}`)];
}

/** The checks of (d); what failed. */
function verify(events: Array<{ id: number; message_id: string; team_id: number; ordering_key: string }>, arrivals: Arrival[], deliveries: number, notCovering: number): string[] {
  const found: string[] = [];
  if (events.length !== deliveries * TEAMS) found.push(`${events.length} events for ${deliveries} deliveries × ${TEAMS} teams`);
  if (events.some((e) => e.team_id === notCovering)) found.push(`events written for the team whose scope does not cover the repository`);
  if (arrivals.some((a) => a[1] === notCovering)) found.push(`requests for the team whose scope does not cover the repository`);
  if (arrivals.some((a) => a[3] === 400)) found.push(`${arrivals.filter((a) => a[3] === 400).length} requests whose signature did not verify`);
  const byId = new Map(events.map((e) => [e.message_id, e]));
  const accepted = new Set(arrivals.filter((a) => a[3] === 200).map((a) => a[0]));
  const missing = events.filter((e) => !accepted.has(e.message_id)).length;
  if (missing) found.push(`${missing} events never accepted`);
  const unknown = [...accepted].filter((id) => !byId.has(id)).length;
  if (unknown) found.push(`${unknown} accepted webhook-ids that are no event`);
  // In order per key: no request for an event before every earlier event of its key was accepted.
  const rank = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const e of events) {
    rank.set(e.message_id, seen.get(e.ordering_key) ?? 0);
    seen.set(e.ordering_key, (seen.get(e.ordering_key) ?? 0) + 1);
  }
  const done = new Map<string, number>();
  const once = new Set<string>();
  let outOfOrder = 0;
  for (const a of arrivals) {
    const e = byId.get(a[0]);
    if (!e) continue;
    if (rank.get(a[0])! > (done.get(e.ordering_key) ?? 0)) outOfOrder++;
    if (a[3] === 200 && !once.has(a[0])) {
      once.add(a[0]);
      done.set(e.ordering_key, (done.get(e.ordering_key) ?? 0) + 1);
    }
  }
  if (outOfOrder) found.push(`${outOfOrder} requests sent before an earlier event of their (team, repository) was accepted`);
  return found;
}

async function main(): Promise<number> {
  forkChild("webhook-load.ts");
  forkChild("fanout-receiver.ts");
  console.log(
    `fan-out benchmark: node ${process.version}, ${cpus().length} cores; Octoplex (server and its one dispatcher) in this process (pid ${process.pid}), ` +
      `load generator and Standard Webhooks receiver (verifies every signature) in forked processes; push deliveries, fresh delivery ids, ` +
      `an installation linked to ${TEAMS} subscribed teams covering its ${REPOSITORIES - 1} pushed repositories (+1 subscribed team whose scope lists another); ` +
      `(a) ${ROUNDS} interleaved rounds of ${DURATION_MS / 1000} s at ${IN_FLIGHT} in flight; (b) a ${BACKLOG_MS / 1000} s backlog, then ${RATE}/s for ${RATE_MS / 1000} s, twice; (c) the same with one team answered 500, alternating with (b)`,
  );
  const baseline = await startProbotBaseline();
  cleanups.push(() => baseline.close());
  for (const kind of kinds) {
    const lines = await runOn(kind, baseline.url);
    for (const line of lines) console.log(line);
    while (cleanups.length > 1) await cleanups.pop()!().catch(() => undefined);
  }
  return reportProblems(problems, 20);
}

runBench(main, async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  for (const child of children) child.kill();
});
