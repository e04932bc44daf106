import { Config, parseConfig } from "../../src/config";
import { testPrivateKey } from "../fixtures/keys";

export const TEST_APP_ID = 12345;
export const TEST_WEBHOOK_SECRET = "test-webhook-secret";

/** The environment of a configured deployment, as a developer's .env would hold it. */
export function testEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    APP_ID: String(TEST_APP_ID),
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    LOG_LEVEL: "silent",
    ...extra,
  };
}

export function testConfig(database: Config["database"], extra: NodeJS.ProcessEnv = {}): Config {
  return { ...parseConfig(testEnv(extra), "server"), database };
}
