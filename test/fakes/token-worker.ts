// A process of its own making installation API calls, for the cross-process token-sharing test and
// `npm run bench:tokens`. Run it as `node -r ./scripts/register-ts.js test/fakes/token-worker.ts '<json>'`
// (see TokenWorkerConfig); startTokenWorkers in token-workers.ts does that and speaks its protocol.
import { performance } from "node:perf_hooks";
import pino from "pino";
import { Probot } from "probot";
import { createDeps, Deps } from "../../src/deps";
import { githubEnv, testConfig } from "../helpers/config";
import { TestOctokit } from "../helpers/test-octokit";
import type { TokenRound, TokenRoundResult, TokenWorkerConfig } from "./token-workers";
import { openConnections, runWorker, serveRounds, waitForStart } from "./worker-child";

async function runRound(probot: Probot, round: TokenRound): Promise<TokenRoundResult> {
  await waitForStart(round);
  const latenciesMs: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < round.calls) {
      next++;
      const started = performance.now();
      try {
        const octokit = await probot.auth(round.installationId);
        await octokit.request("GET /repos/{owner}/{repo}", { owner: round.owner, repo: round.repo });
        latenciesMs.push(performance.now() - started);
      } catch (error) {
        const e = error as { status?: number; message?: string };
        errors.push(`${e.status ?? "error"}: ${e.message ?? String(error)}`);
      }
    }
  };
  // With concurrency = calls, every action starts in this same tick.
  await Promise.all(Array.from({ length: Math.max(1, Math.min(round.concurrency, round.calls)) }, lane));
  return { pid: process.pid, ok: latenciesMs.length, latenciesMs, errors };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "") as TokenWorkerConfig;
  const appConfig = testConfig(config.database, githubEnv(config.githubUrl));
  const log = pino({ level: "silent" });
  let deps: Deps | undefined;
  let probot: Probot;
  if (config.cache === "shared") {
    deps = createDeps(appConfig, { log, Octokit: TestOctokit });
    if (!deps.probot) throw new Error("the worker's config lacks the app's id and key");
    probot = deps.probot;
    await openConnections(deps.db);
  } else {
    // Probot as `probot run` builds it: its own in-memory token cache, nothing shared.
    probot = new Probot({ appId: appConfig.appId, privateKey: appConfig.privateKey, baseUrl: appConfig.githubBaseUrl, Octokit: TestOctokit, log });
  }

  await serveRounds(
    (round: TokenRound) => runRound(probot, round),
    (error): TokenRoundResult => ({ pid: process.pid, ok: 0, latenciesMs: [], errors: [String(error)] }),
  );
  await deps?.close();
}

runWorker(main);
