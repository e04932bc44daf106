// A process of its own making installation API calls, for the cross-process token-sharing test and
// `npm run bench:tokens`. Run it as `node -r ./scripts/register-ts.js test/fakes/token-worker.ts '<json>'`
// (see TokenWorkerConfig); startTokenWorkers in token-workers.ts does that and speaks its protocol.
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import pino from "pino";
import { Probot } from "probot";
import { createDeps, Deps } from "../../src/deps";
import { testConfig } from "../helpers/config";
import { TestOctokit } from "../helpers/test-octokit";
import type { TokenRound, TokenRoundResult, TokenWorkerConfig, TokenWorkerMessage } from "./token-workers";

function print(message: TokenWorkerMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function runRound(probot: Probot, round: TokenRound): Promise<TokenRoundResult> {
  const delay = (round.startAt ?? 0) - Date.now();
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
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
  const github = new URL(config.githubUrl);
  const appConfig = testConfig(config.database, { GHE_HOST: github.host, GHE_PROTOCOL: github.protocol.replace(":", "") });
  const log = pino({ level: "silent" });
  let deps: Deps | undefined;
  let probot: Probot;
  if (config.cache === "shared") {
    deps = createDeps(appConfig, { log, Octokit: TestOctokit });
    if (!deps.probot) throw new Error("the worker's config lacks the app's id and key");
    probot = deps.probot;
    // Open the connections now (Postgres pool up to 10) so that the first round does not pay for them.
    await Promise.all(Array.from({ length: 10 }, () => deps!.db.raw("select 1")));
  } else {
    // Probot as `probot run` builds it: its own in-memory token cache, nothing shared.
    probot = new Probot({ appId: appConfig.appId, privateKey: appConfig.privateKey, baseUrl: appConfig.githubBaseUrl, Octokit: TestOctokit, log });
  }

  print({ type: "ready", pid: process.pid });
  const lines = createInterface({ input: process.stdin });
  // Rounds run one after another; stdin closing means the parent is done.
  let queue = Promise.resolve();
  lines.on("line", (line) => {
    queue = queue.then(async () => {
      const result = await runRound(probot, JSON.parse(line) as TokenRound).catch(
        (error: Error): TokenRoundResult => ({ pid: process.pid, ok: 0, latenciesMs: [], errors: [String(error)] }),
      );
      print({ type: "result", ...result });
    });
  });
  await new Promise((resolve) => lines.once("close", resolve));
  await queue;
  await deps?.close();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
