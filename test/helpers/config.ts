import { Config, parseConfig } from "../../src/config";
import { testPrivateKey } from "../fixtures/keys";

export const TEST_APP_ID = 12345;
export const TEST_WEBHOOK_SECRET = "test-webhook-secret";
export const TEST_CLIENT_ID = "Iv1.testclientid0001";
// Shaped like GitHub's, so the log and database scans recognise a leak.
export const TEST_CLIENT_SECRET = "testclientsecret0123456789abcdef01234567";
export const TEST_BASE_URL = "http://localhost:3000";
export const TEST_KEY_K1 = `k1:${Buffer.alloc(32, 7).toString("base64")}`;
/** The key a rotation moves to: TOKEN_ENCRYPTION_KEYS=`${TEST_KEY_K2},${TEST_KEY_K1}`. */
export const TEST_KEY_K2 = `k2:${Buffer.alloc(32, 9).toString("base64")}`;
export const TEST_SESSION_SECRET = "test-session-secret-0123456789abcdefghij";

/** The environment of a configured deployment, as a developer's .env would hold it. */
export function testEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    APP_ID: String(TEST_APP_ID),
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    GITHUB_CLIENT_ID: TEST_CLIENT_ID,
    GITHUB_CLIENT_SECRET: TEST_CLIENT_SECRET,
    BASE_URL: TEST_BASE_URL,
    SESSION_SECRET: TEST_SESSION_SECRET,
    TOKEN_ENCRYPTION_KEYS: TEST_KEY_K1,
    LOG_LEVEL: "silent",
    ...extra,
  };
}

export function testConfig(database: Config["database"], extra: NodeJS.ProcessEnv = {}): Config {
  return { ...parseConfig(testEnv(extra), "server"), database };
}

/** The env that points the config at a fake GitHub at `githubUrl`: its host as GHE_HOST, its protocol as GHE_PROTOCOL. */
export function githubEnv(githubUrl: string): { GHE_HOST: string; GHE_PROTOCOL: string } {
  const github = new URL(githubUrl);
  return { GHE_HOST: github.host, GHE_PROTOCOL: github.protocol.replace(":", "") };
}
