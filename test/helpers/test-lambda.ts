import { migrateLatest } from "../../src/db/migrate";
import { createDeps, Deps } from "../../src/deps";
import { createLambdaApp } from "../../src/lambda/lambda-app";
import { lambdaContext, LambdaHttpResult } from "../fixtures/lambda-events";
import { testConfig } from "./config";
import type { TestDatabase } from "./databases";
import { captureLogger } from "./log-capture";
import { TestOctokit } from "./test-octokit";

export interface TestLambda {
  deps: Deps;
  /** One invocation of the handler with an HTTP event (see test/fixtures/lambda-events.ts). */
  invoke(event: unknown): Promise<LambdaHttpResult>;
  close(): Promise<void>;
}

/** The Lambda handler (createLambdaApp) on `database`, with `extraEnv` over the test config. */
export async function startTestLambda(database: TestDatabase, extraEnv: NodeJS.ProcessEnv = {}): Promise<TestLambda> {
  const deps = createDeps(testConfig(database.config, extraEnv), { Octokit: TestOctokit, log: captureLogger() });
  await migrateLatest(deps.db);
  const app = createLambdaApp(deps);
  return {
    deps,
    invoke: (event) => app.handle(event, lambdaContext()) as Promise<LambdaHttpResult>,
    close: () => deps.close(),
  };
}
