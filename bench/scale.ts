// npm run bench:scale [-- --teams 100000] [--installations 20000] [--links 500000] [--samples 1000] [--only sqlite|postgres]
//
// Seeds a fresh, migrated database (SQLite file in a temp dir; a Postgres database of its own,
// dropped afterwards) with `teams` teams, `installations` installations and `links` team links
// (batched multi-row inserts in transactions, progress on stderr). 10 of the installations are
// each linked to 10,000 teams (fewer when there are fewer teams); the other links spread evenly.
// It also seeds a history of 2 delivered platform events per team.
// Then measures, through the repository functions and the real service:
//   - a team's links: listTeamLinksWithInstallations (the connect page) and listLinks({ teamId });
//   - the teams of an installation: listLinks({ installationId }), and of one with 10,000 teams;
//   - installation.deleted of an installation linked to 10,000 teams: createInstallationEvents(...)
//     .deleted (ledger + removeInstallation in one transaction: links, row, tokens, tombstone, one
//     audit event per team), without and with the platform-event outbox (one event per team);
//   - the dispatcher's poll for the next 100 events, with the deletions' events pending;
//   - a team's repositories (first page; a name search) with 5,000 of 500,000 repositories
//     (bench/scale-team-repositories.ts; goals p99 < 10 ms and < 20 ms);
// with the baseline of a primary-key lookup (findTeam) measured in the same run. Prints p50/p99,
// the goals (a team's links p99 < 5 ms; deleted < 250 ms) and each query's plan (EXPLAIN QUERY
// PLAN on SQLite, EXPLAIN on Postgres), saying whether every table it reads is reached by an index.
// Goals print "met" or "MISSED"; exits 1 when a plan scans a table without an index, or a delete
// left links or audit events wrong.
import { randomUUID } from "node:crypto";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Knex } from "knex";
import { createKnex, isPostgres } from "../src/db/knex";
import { migrateLatest } from "../src/db/migrate";
import { listLinks, listTeamLinksWithInstallations } from "../src/repositories/links";
import { listDeliverable } from "../src/repositories/outbox-dispatch";
import { findTeam } from "../src/repositories/teams";
import { createDeliveryLedger } from "../src/services/events/delivery-ledger";
import { createInstallationEvents } from "../src/services/installations/installation-events";
import { createEventRecorder, EVENT_RETRY_FOR_MS, EventRecorder, noEvents } from "../src/services/events/platform-events";
import type { DatabaseKind, TestDatabase } from "../test/helpers/databases";
import { createBenchDatabase, reportProblems, runBench } from "./harness";
import { Captured, captureSql, explain, slowestStatements } from "./query-plans";
import { seedScale } from "./scale-seed";
import { benchTeamRepositories } from "./scale-team-repositories";
import { formatMs, p50p99 } from "./stats";

const { values: args } = parseArgs({
  options: {
    teams: { type: "string", default: "100000" },
    installations: { type: "string", default: "20000" },
    links: { type: "string", default: "500000" },
    samples: { type: "string", default: "1000" },
    only: { type: "string" },
    "sqlite-only": { type: "boolean", default: false },
  },
});
const TEAMS = Number(args.teams);
const INSTALLATIONS = Number(args.installations);
const LINKS = Number(args.links);
const SAMPLES = Number(args.samples);
const only = args["sqlite-only"] ? "sqlite" : args.only;
const kinds = (["sqlite", "postgres"] as const).filter((k) => !only || only === k);
if (kinds.length === 0) throw new Error(`--only takes sqlite or postgres, not ${only}`);

/** Installations 1..HOT each linked to HOT_TEAMS teams: the ones deleted (half without, half with the outbox). */
const HOT = Math.min(10, Math.max(2, Math.floor(INSTALLATIONS / 10)));
const HOT_TEAMS = Math.min(10_000, TEAMS);
/** Delivered platform events seeded before the deletions write theirs. */
const HISTORY = 2 * TEAMS;
/** What one dispatcher pass selects: 100 keys, teams taking turns (20 keys each at most), 10 events a key. */
const DISPATCH_BATCH = { keys: 100, perTeam: 20, chain: 10 };
const GOAL_TEAM_LINKS_P99_MS = 5;
const GOAL_DELETED_MS = 250;
const ms = formatMs(2);

const databases: TestDatabase[] = [];
const knexes: Knex[] = [];

/** A small deterministic PRNG (mulberry32), so every run samples the same teams. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function time(samples: number, work: (i: number) => Promise<unknown>): Promise<number[]> {
  // A full collection first (npm run bench:scale passes --expose-gc): the seeding's garbage is
  // collected here, not in the middle of a series, where it would be a query's p99.
  (globalThis as { gc?: () => void }).gc?.();
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await work(i);
    out.push(performance.now() - t0);
  }
  return out;
}

async function runOn(kind: DatabaseKind): Promise<string[]> {
  const problems: string[] = [];
  const database = await createBenchDatabase(kind, "use --only sqlite, or set TEST_DATABASE_URL");
  databases.push(database);
  const db = createKnex(database.config);
  knexes.push(db);
  await migrateLatest(db);
  const label = kind === "sqlite" ? "SQLite" : "Postgres";
  const version = isPostgres(db)
    ? `Postgres ${(await db.raw("SHOW server_version")).rows[0].server_version}`
    : `SQLite ${((await db.raw("SELECT sqlite_version() AS v")) as Array<{ v: string }>)[0].v} (WAL, synchronous=NORMAL)`;

  const seeded = performance.now();
  await seedScale(db, { teams: TEAMS, installations: INSTALLATIONS, links: LINKS, hot: HOT, hotTeams: HOT_TEAMS, history: HISTORY });
  const seedS = (performance.now() - seeded) / 1000;
  console.log("");
  console.log(`== ${version}: seeded ${TEAMS.toLocaleString("en")} teams, ${INSTALLATIONS.toLocaleString("en")} installations, ${LINKS.toLocaleString("en")} links in ${seedS.toFixed(1)} s`);

  const rnd = prng(42);
  const teamIds = Array.from({ length: SAMPLES }, () => 1 + Math.floor(rnd() * TEAMS));
  const installationIds = Array.from({ length: SAMPLES }, () => HOT + 1 + Math.floor(rnd() * (INSTALLATIONS - HOT)));
  // Warm the cache, as a running server's would be.
  for (const t of teamIds.slice(0, 100)) await listTeamLinksWithInstallations(db, t);

  const rows = { teamLinks: 0, installationTeams: 0 };
  const baseline = await time(SAMPLES, (i) => findTeam(db, teamIds[i]));
  const teamLinksJoined = await time(SAMPLES, async (i) => (rows.teamLinks += (await listTeamLinksWithInstallations(db, teamIds[i])).length));
  const teamLinks = await time(SAMPLES, (i) => listLinks(db, { teamId: teamIds[i] }));
  const installationTeams = await time(SAMPLES, async (i) => (rows.installationTeams += (await listLinks(db, { installationId: installationIds[i] })).length));
  const hotTeams = await time(Math.min(20, SAMPLES), () => listLinks(db, { installationId: HOT }));

  // installation.deleted through the real service, the hot installations in turn: first half
  // without platform events (PLATFORM_WEBHOOK_URL unset), second half with the outbox.
  const now = () => new Date();
  const ledger = createDeliveryLedger(db, now);
  const withEvents: EventRecorder = createEventRecorder({ now, retryForMs: EVENT_RETRY_FOR_MS });
  const deleted: Record<"plain" | "outbox", number[]> = { plain: [], outbox: [] };
  let deleteSql: Captured[] = [];
  const outboxRuns: Captured[][] = [];
  for (let installation = 1; installation <= HOT; installation++) {
    const variant = installation <= HOT / 2 ? "plain" : "outbox";
    const events = createInstallationEvents({ ledger, now, events: variant === "plain" ? noEvents : withEvents });
    const delivery = { id: randomUUID(), event: "installation", action: "deleted", installationId: installation };
    const t0 = performance.now();
    const sql = await captureSql(db, () => events.deleted(delivery, installation), /./);
    deleted[variant].push(performance.now() - t0);
    if (installation === 1) deleteSql = sql.filter((q) => /team_installations/.test(q.sql));
    if (variant === "outbox") outboxRuns.push(sql);
    const left = await listLinks(db, { installationId: installation });
    if (left.length) problems.push(`${label}: installation ${installation} still has ${left.length} link(s) after installation.deleted`);
  }
  const pending = Number((await db("outbox_events").where({ status: "pending" }).count({ n: "*" }))[0].n);
  const dispatcherPolls = await time(Math.min(200, SAMPLES), () => listDeliverable(db, new Date(), DISPATCH_BATCH));
  const audit = Number((await db("audit_events").count({ n: "*" }))[0].n);
  if (audit !== HOT * HOT_TEAMS) problems.push(`${label}: ${audit} audit events after deleting ${HOT} installations, expected ${HOT * HOT_TEAMS}`);

  const line = (name: string, values: number[], goal?: string) => {
    const [p50, p99] = p50p99(values);
    console.log(`  ${name.padEnd(60)} ${ms(p50).padStart(10)} ${ms(p99).padStart(10)}   ${(p99 / p50p99(baseline)[1]).toFixed(1).padStart(6)}×${goal ? `   ${goal}` : ""}`);
  };
  const [, teamP99] = p50p99(teamLinksJoined);
  const teamGoal = `goal p99 < ${GOAL_TEAM_LINKS_P99_MS} ms: ${teamP99 < GOAL_TEAM_LINKS_P99_MS ? "met" : "MISSED"}`;
  console.log(`  ${"(samples; p99 ratio against the primary-key lookup)".padEnd(60)} ${"p50".padStart(10)} ${"p99".padStart(10)}   ${"ratio".padStart(7)}`);
  line(`baseline: findTeam (primary key), ${SAMPLES}`, baseline);
  line(`a team's links with installations (join), ${SAMPLES}, ${(rows.teamLinks / SAMPLES).toFixed(1)} rows avg`, teamLinksJoined, teamGoal);
  line(`a team's links: listLinks({ teamId }), ${SAMPLES}`, teamLinks);
  line(`an installation's teams: listLinks({ installationId }), ${SAMPLES}, ${(rows.installationTeams / SAMPLES).toFixed(1)} rows avg`, installationTeams);
  line(`an installation's ${HOT_TEAMS.toLocaleString("en")} teams: listLinks({ installationId }), ${hotTeams.length}`, hotTeams);
  line(`installation.deleted, ${HOT_TEAMS.toLocaleString("en")} teams, no platform events, ${deleted.plain.length}`, deleted.plain, `goal < ${GOAL_DELETED_MS} ms: ${Math.max(...deleted.plain) < GOAL_DELETED_MS ? "met" : "MISSED"} (max ${ms(Math.max(...deleted.plain))})`);
  line(`installation.deleted, ${HOT_TEAMS.toLocaleString("en")} teams, with outbox events, ${deleted.outbox.length}`, deleted.outbox, `goal < ${GOAL_DELETED_MS} ms: ${Math.max(...deleted.outbox) < GOAL_DELETED_MS ? "met" : "MISSED"} (max ${ms(Math.max(...deleted.outbox))})`);
  line(`the dispatcher's next batch (≤ 100 keys) of ${pending.toLocaleString("en")} pending events behind ${HISTORY.toLocaleString("en")} delivered, ${dispatcherPolls.length}`, dispatcherPolls);
  console.log(`  where installation.deleted with outbox events spends its time (median round trip of its slowest statements):`);
  for (const statement of slowestStatements(outboxRuns, 5)) console.log(`  ${statement}`);

  // The plans of the SQL those calls send.
  const plans: Array<[string, { sql: string; bindings: unknown[] }[]]> = [
    ["a team's links with installations", await captureSql(db, () => listTeamLinksWithInstallations(db, teamIds[0]), /./)],
    ["a team's links (listLinks by teamId)", await captureSql(db, () => listLinks(db, { teamId: teamIds[0] }), /./)],
    ["an installation's teams (listLinks by installationId)", await captureSql(db, () => listLinks(db, { installationId: installationIds[0] }), /./)],
    ["installation.deleted: its statements on team_installations", deleteSql],
    ["the dispatcher's next events (listDeliverable)", await captureSql(db, () => listDeliverable(db, new Date(), DISPATCH_BATCH), /./)],
  ];
  console.log("");
  console.log(`  query plans (${isPostgres(db) ? "EXPLAIN" : "EXPLAIN QUERY PLAN"}):`);
  for (const [name, statements] of plans) {
    for (const { sql, bindings } of statements) {
      const { lines, scans } = await explain(db, sql, bindings);
      const verdict = scans.length ? `NO INDEX: full scan of ${scans.join(", ")}` : "uses indexes";
      console.log(`  - ${name}: ${verdict}`);
      console.log(`      ${sql}`);
      for (const l of lines) console.log(`        ${l}`);
      if (scans.length) problems.push(`${label}: ${name} scans ${scans.join(", ")} without an index`);
    }
  }
  console.log("");
  problems.push(...(await benchTeamRepositories(db, label, { teams: TEAMS, installations: INSTALLATIONS, hot: HOT, samples: SAMPLES }, time)));
  await db.destroy();
  knexes.splice(knexes.indexOf(db), 1);
  await database.drop();
  databases.splice(databases.indexOf(database), 1);
  return problems;
}

async function main(): Promise<number> {
  if (HOT_TEAMS * HOT > LINKS) throw new Error(`--links must be at least ${HOT * HOT_TEAMS} (${HOT} installations × ${HOT_TEAMS} teams)`);
  if (Math.ceil((LINKS - HOT * HOT_TEAMS) / TEAMS) * 1_009 >= INSTALLATIONS - HOT) throw new Error("too many links per team for these installations: lower --links or raise --installations");
  console.log(
    `scale benchmark: node ${process.version}, ${cpus().length} cores; ${TEAMS.toLocaleString("en")} teams, ${INSTALLATIONS.toLocaleString("en")} installations, ` +
      `${LINKS.toLocaleString("en")} links (${HOT} installations × ${HOT_TEAMS.toLocaleString("en")} teams, the rest spread evenly); ` +
      `${SAMPLES} random teams and installations per query, one after another, cache warm`,
  );
  const problems: string[] = [];
  for (const kind of kinds) problems.push(...(await runOn(kind)));
  return reportProblems(problems);
}

runBench(main, async () => {
  for (const db of knexes) await db.destroy().catch(() => undefined);
  for (const d of databases) await d.drop().catch(() => undefined);
});
