// npm run bench:refresh [-- --sqlite] [--processes 4] [--callers 50] [--rounds 3] [--delay 50]
//
// One user's token, many callers in several processes sharing one database, GitHub played by a
// local fake. Each round measures the callers' waits twice: with a fresh token (the baseline: no
// refresh) and with an expired one (one refresh at GitHub, everyone else waits for it). Prints the
// refresh calls GitHub received (goal: 1 per expired round) and p50/p99 waits with their ratio to
// the baseline; exits 1 when GitHub saw anything but one refresh, or a caller failed.
import { parseArgs } from "node:util";
import { RefreshWorkers, RoundResult, startRefreshWorkers } from "../test/fakes/refresh-workers";
import { ALICE, seedSignedInUser } from "../test/helpers/users";
import { startWorkerHost, WorkerHost } from "../test/helpers/worker-host";
import { createBenchDatabase, reportProblems, runBench } from "./harness";
import { columns, describeP50p99, formatMs, p50p99, ratio } from "./stats";

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

const ms = formatMs(1);

let host: WorkerHost | undefined;
let workers: RefreshWorkers | undefined;

async function main(): Promise<number> {
  host = await startWorkerHost(await createBenchDatabase(kind, "use --sqlite, or set TEST_DATABASE_URL"), { github: { refreshDelayMs: delayMs } });
  const { database, github, deps } = host;
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
    console.log(`round ${round}: fresh token ${describeP50p99(b.waitsMs, ms)} | expired token: ${e.refreshCalls} refresh call(s) at GitHub, ${describeP50p99(e.waitsMs, ms)}`);
  }

  const [base50, base99] = p50p99(baseline.flatMap((r) => r.waitsMs));
  const [exp50, exp99] = p50p99(expired.flatMap((r) => r.waitsMs));
  const calls = expired.map((r) => r.refreshCalls);
  console.log("");
  console.log(`refresh calls GitHub received per expired round: ${calls.join(", ")} (goal: 1)`);
  console.log(`callers' wait, all rounds       p50        p99`);
  console.log(`  fresh token (baseline)  ${columns([ms(base50), ms(base99)])}`);
  console.log(`  expired token (refresh) ${columns([ms(exp50), ms(exp99)])}`);
  console.log(`  ratio expired / fresh   ${columns([ratio(exp50, base50), ratio(exp99, base99)])}`);

  return reportProblems([...baseline, ...expired].flatMap((r) => r.problems), 10);
}

/** One round in every process at once; `expectedCalls` refreshes at GitHub, every caller with GitHub's newest token. */
async function measure(expectedCalls: number): Promise<Run> {
  const github = host!.github;
  const before = github.refreshCalls;
  const results: RoundResult[] = await workers!.run(ALICE.id, callers);
  const refreshCalls = github.refreshCalls - before;
  const problems = results.flatMap((r) => r.errors.map((e) => `process ${r.pid}: ${e}`));
  if (refreshCalls !== expectedCalls) problems.push(`GitHub received ${refreshCalls} refresh call(s), expected ${expectedCalls}`);
  const tokens = new Set(results.flatMap((r) => r.tokens));
  if (tokens.size !== 1 || !tokens.has(github.current!.token)) problems.push(`callers got ${tokens.size} distinct token(s), not GitHub's newest`);
  return { refreshCalls, waitsMs: results.flatMap((r) => r.waitsMs), problems };
}

runBench(main, async () => {
  await workers?.close();
  await host?.close();
});
