// npm run bench:refresh [-- --sqlite] [--processes 4] [--callers 50] [--rounds 3] [--delay 50]
//
// One user's token, many callers in several processes sharing one database, GitHub played by a
// local fake. Each round measures the callers' waits twice: with a fresh token (the baseline: no
// refresh) and with an expired one (one refresh at GitHub, everyone else waits for it). Prints the
// refresh calls GitHub received (goal: 1 per expired round) and p50/p99 waits with their ratio to
// the baseline; exits 1 when GitHub saw anything but one refresh, or a caller failed.
import { parseArgs } from "node:util";
import pino from "pino";
import { migrateLatest } from "../src/db/migrate";
import { createDeps, Deps } from "../src/deps";
import { FakeGithub, startFakeGithub } from "../test/fakes/fake-github";
import { RefreshWorkers, RoundResult, startRefreshWorkers } from "../test/fakes/refresh-workers";
import { testConfig } from "../test/helpers/config";
import { createTestDatabase, TestDatabase } from "../test/helpers/databases";
import { ADMIN_POSTGRES_URL } from "../test/helpers/postgres-url";
import { ALICE, seedSignedInUser } from "../test/helpers/users";

const { values: args } = parseArgs({
  options: {
    sqlite: { type: "boolean", default: false },
    processes: { type: "string", default: "4" },
    callers: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
    delay: { type: "string", default: "50" },
  },
});
const kind = args.sqlite ? "sqlite" : "postgres";
const processes = Number(args.processes);
const callers = Number(args.callers);
const rounds = Number(args.rounds);
const delayMs = Number(args.delay);

interface Run {
  refreshCalls: number;
  waitsMs: number[];
  problems: string[];
}

let database: TestDatabase | undefined;
let github: FakeGithub | undefined;
let deps: Deps | undefined;
let workers: RefreshWorkers | undefined;

async function main(): Promise<number> {
  database = await createTestDatabase(kind).catch((error: Error) => {
    throw new Error(`cannot create a database on ${ADMIN_POSTGRES_URL} (${error.message}); use --sqlite, or set TEST_DATABASE_URL`);
  });
  github = await startFakeGithub({ refreshDelayMs: delayMs });
  const url = new URL(github.url);
  deps = createDeps(testConfig(database.config, { GHE_HOST: url.host, GHE_PROTOCOL: "http" }), { log: pino({ level: "silent" }) });
  await migrateLatest(deps.db);
  workers = await startRefreshWorkers({ processes, database: database.config, githubUrl: github.url });

  console.log(
    `refresh benchmark: ${kind}, ${processes} processes × ${callers} callers = ${processes * callers} concurrent getUserToken ` +
      `for one user, fake GitHub refresh takes ${delayMs} ms, ${rounds} round(s)`,
  );
  const baseline: Run[] = [];
  const expired: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    await seedSignedInUser(deps, ALICE, { tokens: github.issue(ALICE) }); // 8 hours left
    baseline.push(await measure(0));
    await seedSignedInUser(deps, ALICE, { tokens: github.issue(ALICE), expiresInMs: 60_000 }); // inside the 5-minute margin
    expired.push(await measure(1));
    const [b, e] = [baseline[round - 1], expired[round - 1]];
    console.log(
      `round ${round}: fresh token p50 ${ms(percentile(b.waitsMs, 50))} p99 ${ms(percentile(b.waitsMs, 99))} | ` +
        `expired token: ${e.refreshCalls} refresh call(s) at GitHub, p50 ${ms(percentile(e.waitsMs, 50))} p99 ${ms(percentile(e.waitsMs, 99))}`,
    );
  }

  const base = baseline.flatMap((r) => r.waitsMs);
  const exp = expired.flatMap((r) => r.waitsMs);
  const calls = expired.map((r) => r.refreshCalls);
  console.log("");
  console.log(`refresh calls GitHub received per expired round: ${calls.join(", ")} (goal: 1)`);
  console.log(`callers' wait, all rounds       p50        p99`);
  console.log(`  fresh token (baseline)  ${ms(percentile(base, 50)).padStart(9)}  ${ms(percentile(base, 99)).padStart(9)}`);
  console.log(`  expired token (refresh) ${ms(percentile(exp, 50)).padStart(9)}  ${ms(percentile(exp, 99)).padStart(9)}`);
  console.log(
    `  ratio expired / fresh   ${ratio(percentile(exp, 50), percentile(base, 50)).padStart(9)}  ${ratio(percentile(exp, 99), percentile(base, 99)).padStart(9)}`,
  );

  const problems = [...baseline, ...expired].flatMap((r) => r.problems);
  for (const p of problems.slice(0, 10)) console.error(`problem: ${p}`);
  if (problems.length > 10) console.error(`… and ${problems.length - 10} more`);
  return problems.length === 0 ? 0 : 1;
}

/** One round in every process at once; `expectedCalls` refreshes at GitHub, every caller with GitHub's newest token. */
async function measure(expectedCalls: number): Promise<Run> {
  const before = github!.refreshCalls;
  const results: RoundResult[] = await workers!.run(ALICE.id, callers);
  const refreshCalls = github!.refreshCalls - before;
  const problems = results.flatMap((r) => r.errors.map((e) => `process ${r.pid}: ${e}`));
  if (refreshCalls !== expectedCalls) problems.push(`GitHub received ${refreshCalls} refresh call(s), expected ${expectedCalls}`);
  const tokens = new Set(results.flatMap((r) => r.tokens));
  if (tokens.size !== 1 || !tokens.has(github!.current!.token)) problems.push(`callers got ${tokens.size} distinct token(s), not GitHub's newest`);
  return { refreshCalls, waitsMs: results.flatMap((r) => r.waitsMs), problems };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const ratio = (value: number, base: number) => `${(value / base).toFixed(1)}×`;

async function cleanup(): Promise<void> {
  await workers?.close();
  await deps?.close();
  await github?.close();
  await database?.drop();
}

process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (error: Error) => {
    console.error(error.message);
    await cleanup().catch(() => undefined);
    process.exit(1);
  });
