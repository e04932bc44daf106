// A process of its own calling getUserToken concurrently, for the cross-process refresh test and
// `npm run bench:refresh`. Run it as `node -r ./scripts/register-ts.js test/fakes/refresh-worker.ts '<json>'`
// (see RefreshWorkerConfig); startRefreshWorkers in refresh-workers.ts does that and speaks its protocol.
import { performance } from "node:perf_hooks";
import pino from "pino";
import { createDeps, Deps } from "../../src/deps";
import { githubEnv, testConfig } from "../helpers/config";
import { TestOctokit } from "../helpers/test-octokit";
import type { RefreshWorkerConfig, RoundRequest, RoundResult } from "./refresh-workers";
import { openConnections, print, runWorker, serveRounds, waitForStart } from "./worker-child";

type Outcome = { token: string; waitMs: number } | { error: string; waitMs: number };

async function runRound(deps: Deps, round: RoundRequest): Promise<RoundResult> {
  const userTokens = deps.services.auth!.userTokens;
  await waitForStart(round);
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
  const deps = createDeps(testConfig(config.database, githubEnv(config.githubUrl)), { log: pino({ level: "silent" }), Octokit: TestOctokit });
  if (!deps.services.auth) throw new Error("the worker's config lacks what user tokens need");
  await openConnections(deps.db);

  if (config.run) {
    print<RoundResult>({ type: "result", ...(await runRound(deps, config.run)) });
    await deps.close();
    return;
  }
  await serveRounds(
    (round: RoundRequest) => runRound(deps, round),
    (error): RoundResult => ({ pid: process.pid, tokens: [], ok: 0, waitsMs: [], errors: [String(error)] }),
  );
  await deps.close();
}

runWorker(main);
