// Octoplex as `npm start` runs it (startOctoplex: parse the env, migrate, serve, the dispatch loop),
// in a process of its own, so a fault test can SIGKILL it or watch that it never dies. Run it as
// `node -r ./scripts/register-ts.js test/fakes/octoplex-child.ts '<json>'` (OctoplexChildConfig);
// test/helpers/octoplex-process.ts does that. Prints one JSON line once it listens:
// { "type": "ready", "pid", "url" }. Closing stdin stops it cleanly.
import { createInterface } from "node:readline";
import { startOctoplex } from "../../src/main";
import { captureLogger } from "../helpers/log-capture";
import { TestOctokit } from "../helpers/test-octokit";
import { runWorker } from "./worker-child";

export interface OctoplexChildConfig {
  env: NodeJS.ProcessEnv;
  /** Where `./data/octoplex.sqlite` is when DATABASE_URL is unset. */
  cwd: string;
  /** Fixed port, when the caller needs to know the origin (BASE_URL) before the start; default 0. */
  port?: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "") as OctoplexChildConfig;
  // The suite's log capture (scanned for secrets at the end) when the parent has one.
  const octoplex = await startOctoplex(config.env, { port: config.port ?? 0, host: "127.0.0.1", Octokit: TestOctokit, log: captureLogger(), cwd: config.cwd });
  process.stdout.write(`${JSON.stringify({ type: "ready", pid: process.pid, url: octoplex.running.url })}\n`);
  await new Promise((resolve) => createInterface({ input: process.stdin }).once("close", resolve));
  await octoplex.stop();
}

runWorker(main);
