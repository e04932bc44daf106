// A process of its own calling getUserToken concurrently, for the cross-process refresh test and
// `npm run bench:refresh`. Run it as `node -r ./scripts/register-ts.js test/fakes/refresh-worker.ts '<json>'`
// (see RefreshWorkerConfig); startRefreshWorkers in refresh-workers.ts does that and speaks its protocol.
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import pino from "pino";
import { createDeps, Deps } from "../../src/deps";
import { testConfig } from "../helpers/config";
import { TestOctokit } from "../helpers/test-octokit";
import type { RefreshWorkerConfig, RoundRequest, RoundResult, WorkerMessage } from "./refresh-workers";

function print(message: WorkerMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

type Outcome = { token: string; waitMs: number } | { error: string; waitMs: number };

async function runRound(deps: Deps, round: RoundRequest): Promise<RoundResult> {
  const userTokens = deps.services.auth!.userTokens;
  const delay = (round.startAt ?? 0) - Date.now();
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  // Every call starts in this same tick.
  const outcomes = await Promise.all(
    Array.from({ length: round.concurrency }, async (): Promise<Outcome> => {
      const started = performance.now();
      try {
        const token = await userTokens.get(round.userId);
        return { token, waitMs: performance.now() - started };
      } catch (error) {
        const e = error as { code?: string; message?: string };
        return { error: `${e.code ?? "error"}: ${e.message ?? String(error)}`, waitMs: performance.now() - started };
      }
    }),
  );
  const tokens = outcomes.flatMap((o) => ("token" in o ? [o.token] : []));
  return {
    pid: process.pid,
    tokens: [...new Set(tokens)],
    ok: tokens.length,
    waitsMs: outcomes.map((o) => o.waitMs),
    errors: outcomes.flatMap((o) => ("error" in o ? [o.error] : [])),
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? process.env.REFRESH_WORKER_CONFIG ?? "") as RefreshWorkerConfig;
  const github = new URL(config.githubUrl);
  const env = { GHE_HOST: github.host, GHE_PROTOCOL: github.protocol.replace(":", "") };
  const deps = createDeps(testConfig(config.database, env), { log: pino({ level: "silent" }), Octokit: TestOctokit });
  if (!deps.services.auth) throw new Error("the worker's config lacks what user tokens need");
  // Open the connections now (Postgres pool up to 10) so that the first round does not pay for them.
  await Promise.all(Array.from({ length: 10 }, () => deps.db.raw("select 1")));

  if (config.run) {
    print({ type: "result", ...(await runRound(deps, config.run)) });
    await deps.close();
    return;
  }
  print({ type: "ready", pid: process.pid });
  const lines = createInterface({ input: process.stdin });
  // Rounds run one after another; stdin closing means the parent is done.
  let queue = Promise.resolve();
  lines.on("line", (line) => {
    queue = queue.then(async () => {
      const result = await runRound(deps, JSON.parse(line) as RoundRequest).catch(
        (error: Error): RoundResult => ({ pid: process.pid, tokens: [], ok: 0, waitsMs: [], errors: [String(error)] }),
      );
      print({ type: "result", ...result });
    });
  });
  await new Promise((resolve) => lines.once("close", resolve));
  await queue;
  await deps.close();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
