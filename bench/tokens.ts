// npm run bench:tokens [-- --sqlite] [--processes 4] [--actions 1000] [--concurrency 1] [--rounds 3]
//
// API actions as one installation (probot.auth(id), then GET /repos/{owner}/{repo}) spread over
// several processes that start at the same instant, GitHub played by a local fake. After an
// unmeasured warm-up, each round runs them twice, each time in fresh processes and in alternating
// order: Probot alone (its in-memory token cache: one mint per process, the baseline; with
// --concurrency > 1 one per action that starts before the first mint ends) and
// Octoplex's wiring (tokens shared through the database, emptied before the round). Prints the
// token mints GitHub received per round (goal with the shared cache: 1) and the actions' p50/p99
// latency over all rounds, with the median latency the shared cache adds; exits 1 when the shared
// cache minted anything but once in a round, or an action failed.
import { parseArgs } from "node:util";
import { tokenMints } from "../test/fakes/github-installation-api";
import { startTokenWorkers, TokenWorkerConfig, TokenWorkers } from "../test/fakes/token-workers";
import { startWorkerHost, WorkerHost } from "../test/helpers/worker-host";
import { createBenchDatabase, reportProblems, runBench } from "./harness";
import { columns, formatMs, p50p99, percentile } from "./stats";

const { values: args } = parseArgs({
  options: {
    sqlite: { type: "boolean", default: false },
    processes: { type: "string", default: "4" },
    actions: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "1" },
    rounds: { type: "string", default: "3" },
  },
});
const kind = args.sqlite ? "sqlite" : "postgres";
const processes = Number(args.processes);
const actions = Number(args.actions);
const concurrency = Number(args.concurrency);
const rounds = Number(args.rounds);
const perProcess = Math.ceil(actions / processes);

interface Run {
  label: string;
  mints: number;
  latenciesMs: number[];
  problems: string[];
}

const ms = formatMs(2);

let host: WorkerHost | undefined;
let workers: TokenWorkers | undefined;

async function main(): Promise<number> {
  host = await startWorkerHost(await createBenchDatabase(kind, "use --sqlite, or set TEST_DATABASE_URL"), { installationApi: true });
  const { database, github, deps } = host;
  const installation = github.world.install(github.world.addOrg({ id: 9001, login: "acme" }));

  console.log(
    `token benchmark: ${kind}, ${processes} processes × ${perProcess} API actions = ${processes * perProcess} as installation ` +
      `${installation.id} (GET /repos/acme/widgets), ${concurrency} at a time per process, every process starting at once`,
  );
  const measure = async (label: string, cache: TokenWorkerConfig["cache"]): Promise<Run> => {
    workers = await startTokenWorkers(processes, { database: database.config, githubUrl: github.url, cache });
    const before = tokenMints(github, installation.id);
    const results = await workers.run({ installationId: installation.id, owner: "acme", repo: "widgets", calls: perProcess, concurrency });
    const mints = tokenMints(github, installation.id) - before;
    await workers.close();
    workers = undefined;
    const problems = results.flatMap((r) => r.errors.map((e) => `${label}, process ${r.pid}: ${e}`));
    return { label, mints, latenciesMs: results.flatMap((r) => r.latenciesMs), problems };
  };
  // A discarded run first, so that no measured run pays for the fake's and the disk's cold start.
  await measure("warm-up", "memory");
  const baseline: Run[] = [];
  const shared: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    const runBaseline = () => measure("Probot alone (in-memory cache per process)", "memory");
    const runShared = async () => {
      await deps.db("installation_tokens").delete(); // the shared cache starts cold, as the processes do
      return measure("Octoplex (shared cache in the database)", "shared");
    };
    if (round % 2 === 1) {
      baseline.push(await runBaseline());
      shared.push(await runShared());
    } else {
      shared.push(await runShared());
      baseline.push(await runBaseline());
    }
    console.log(`round ${round}: token mints: Probot alone ${baseline[round - 1].mints}, shared cache ${shared[round - 1].mints}`);
  }

  const all = (runs: Run[]) => runs.flatMap((r) => r.latenciesMs);
  console.log("");
  console.log(`${"".padEnd(44)} mints/round        p50        p99`);
  for (const runs of [baseline, shared]) {
    const mints = runs.map((r) => r.mints).join(", ");
    console.log(`  ${runs[0].label.padEnd(42)} ${mints.padStart(11)}  ${columns(p50p99(all(runs)).map(ms))}`);
  }
  console.log("");
  console.log(`token mints with the shared cache: ${shared.map((r) => r.mints).join(", ")} per round (goal: 1; Probot alone: ${baseline.map((r) => r.mints).join(", ")})`);
  const added = percentile(all(shared), 50) - percentile(all(baseline), 50);
  console.log(`median added latency of the shared cache: ${added >= 0 ? "+" : ""}${ms(added)} per API action`);

  const problems = [...baseline, ...shared].flatMap((r) => r.problems);
  shared.forEach((r, i) => {
    if (r.mints !== 1) problems.push(`round ${i + 1}: the shared cache minted ${r.mints} token(s), expected 1`);
  });
  return reportProblems(problems, 10);
}

runBench(main, async () => {
  await workers?.close();
  await host?.close();
});
