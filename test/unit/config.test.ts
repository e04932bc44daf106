import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, ConfigScope, needsAppSetup, parseConfig } from "../../src/config";
import { testPrivateKey } from "../fixtures/keys";
import { testEnv } from "../helpers/config";

function problemsOf(env: NodeJS.ProcessEnv, scope?: ConfigScope): string[] {
  try {
    parseConfig(env, scope);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected the config to be rejected");
}

describe("parseConfig", () => {
  test("a missing WEBHOOK_SECRET and a malformed DATABASE_URL are reported together in one message", () => {
    const env = testEnv({ WEBHOOK_SECRET: undefined, DATABASE_URL: "mysql://nope" });
    expect(() => parseConfig(env)).toThrow(/WEBHOOK_SECRET[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*WEBHOOK_SECRET/);
    const problems = problemsOf(env);
    expect(problems).toHaveLength(2);
    expect(problems.join("\n")).toMatch(/WEBHOOK_SECRET is required/);
    expect(problems.join("\n")).toMatch(/DATABASE_URL must be a postgres/);
  });

  test("every malformed value is listed, not just the first", () => {
    const problems = problemsOf(
      testEnv({
        APP_ID: "abc",
        PORT: "99999",
        LOG_LEVEL: "loud" as never,
        BASE_URL: "ftp://x",
        SESSION_SECRET: "short",
        TOKEN_ENCRYPTION_KEYS: "k1:notbase64!",
        PLATFORM_WEBHOOK_URL: "https://platform.example/hooks",
      }),
    );
    for (const name of ["APP_ID", "PORT", "LOG_LEVEL", "BASE_URL", "SESSION_SECRET", "TOKEN_ENCRYPTION_KEYS", "PLATFORM_WEBHOOK_URL"]) {
      expect(problems.join("\n")).toContain(name);
    }
  });

  test("the server requires the sign-in settings and lists each one missing", () => {
    const env = testEnv({ GITHUB_CLIENT_ID: "", GITHUB_CLIENT_SECRET: "", BASE_URL: "", SESSION_SECRET: "", TOKEN_ENCRYPTION_KEYS: "" });
    expect(problemsOf(env).map((p) => p.split(" ")[0])).toEqual([
      "BASE_URL",
      "GITHUB_CLIENT_ID",
      "GITHUB_CLIENT_SECRET",
      "SESSION_SECRET",
      "TOKEN_ENCRYPTION_KEYS",
    ]);
    expect(problemsOf(testEnv({ TOKEN_ENCRYPTION_KEYS: "" }), "encryption")).toEqual([expect.stringMatching(/^TOKEN_ENCRYPTION_KEYS is required/)]);
  });

  test("PLATFORM_WEBHOOK_TIMEOUT sets each delivery attempt's limit (10 s unset); anything but 1s to 60s is refused by name", () => {
    const platform = { PLATFORM_WEBHOOK_URL: "https://platform.example/hooks", PLATFORM_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString("base64")}` };
    expect(parseConfig(testEnv(platform)).platformWebhook?.timeoutMs).toBe(10_000);
    expect(parseConfig(testEnv({ ...platform, PLATFORM_WEBHOOK_TIMEOUT: "3s" })).platformWebhook?.timeoutMs).toBe(3_000);
    for (const bad of ["0s", "61s", "10", "1m", "2.5s"]) {
      expect(problemsOf(testEnv({ ...platform, PLATFORM_WEBHOOK_TIMEOUT: bad }))).toEqual([expect.stringMatching(/^PLATFORM_WEBHOOK_TIMEOUT must be whole seconds/)]);
    }
  });

  test("there is no default webhook secret", () => {
    expect(problemsOf(testEnv({ WEBHOOK_SECRET: "" }))).toEqual([expect.stringMatching(/^WEBHOOK_SECRET is required/)]);
  });

  test("an unset DATABASE_URL means the SQLite file under ./data", () => {
    const config = parseConfig(testEnv(), "server", "/srv/octoplex");
    expect(config.database).toEqual({ client: "sqlite", filename: "/srv/octoplex/data/octoplex.sqlite" });
  });

  test("DATABASE_URL selects Postgres", () => {
    const config = parseConfig(testEnv({ DATABASE_URL: "postgres://u:p@db.internal:5432/octoplex" }));
    expect(config.database).toEqual({ client: "postgres", url: "postgres://u:p@db.internal:5432/octoplex" });
  });

  test("DATABASE_TIMEOUT_MS sets how long Postgres may leave a query or connection unanswered; a bad value is reported", () => {
    const config = parseConfig(testEnv({ DATABASE_URL: "postgres://u:p@db.internal:5432/octoplex", DATABASE_TIMEOUT_MS: "5000" }));
    expect(config.database).toEqual({ client: "postgres", url: "postgres://u:p@db.internal:5432/octoplex", timeoutMs: 5000 });
    for (const bad of ["soon", "1.5", "50", "3600000"]) {
      expect(problemsOf(testEnv({ DATABASE_TIMEOUT_MS: bad }))).toEqual([expect.stringMatching(/^DATABASE_TIMEOUT_MS must be/)]);
    }
  });

  test("EVENT_RETENTION says how long delivered events are kept (default 7d); a bad value is reported", () => {
    expect(parseConfig(testEnv()).eventRetentionMs).toBe(7 * 24 * 3600_000);
    expect(parseConfig(testEnv({ EVENT_RETENTION: "36h" })).eventRetentionMs).toBe(36 * 3600_000);
    expect(parseConfig(testEnv({ EVENT_RETENTION: "30m" })).eventRetentionMs).toBe(30 * 60_000);
    for (const bad of ["7", "0d", "1.5d", "7 days", "-1d", "10s"]) {
      expect(problemsOf(testEnv({ EVENT_RETENTION: bad }))).toEqual([expect.stringMatching(/^EVENT_RETENTION must be a duration/)]);
    }
  });

  test("the private key is accepted with escaped newlines, base64-encoded, or from PRIVATE_KEY_PATH", () => {
    const pem = testPrivateKey().trim();
    expect(parseConfig(testEnv({ PRIVATE_KEY: pem.replace(/\n/g, "\\n") })).privateKey).toBe(pem);
    expect(parseConfig(testEnv({ PRIVATE_KEY: Buffer.from(pem).toString("base64") })).privateKey).toBe(pem);
    const dir = mkdtempSync(join(tmpdir(), "octoplex-key-"));
    writeFileSync(join(dir, "app.pem"), pem);
    expect(parseConfig(testEnv({ PRIVATE_KEY: undefined, PRIVATE_KEY_PATH: "app.pem" }), "server", dir).privateKey).toBe(pem);
  });

  test("a private key that is not PEM is rejected", () => {
    expect(problemsOf(testEnv({ PRIVATE_KEY: "not a key" }))).toEqual(["PRIVATE_KEY is not a PEM private key"]);
  });

  test("the database scope needs no GitHub credentials; the app scope needs no webhook secret", () => {
    expect(parseConfig({}, "database").database.client).toBe("sqlite");
    expect(problemsOf({}, "app")).toEqual([expect.stringMatching(/^APP_ID/), expect.stringMatching(/^PRIVATE_KEY/)]);
    expect(parseConfig(testEnv({ WEBHOOK_SECRET: undefined }), "app").appId).toBe(12345);
  });

  test("GHE_HOST points the API at GitHub Enterprise Server", () => {
    const config = parseConfig(testEnv({ GHE_HOST: "github.example.com" }));
    expect(config.githubBaseUrl).toBe("https://github.example.com/api/v3");
    expect(config.githubWebBaseUrl).toBe("https://github.example.com");
  });

  test("TOKEN_ENCRYPTION_KEYS parses every key in order, first one first", () => {
    const a = Buffer.alloc(32, 1).toString("base64");
    const b = Buffer.alloc(32, 2).toString("base64");
    const config = parseConfig(testEnv({ TOKEN_ENCRYPTION_KEYS: `new:${a},old:${b}` }));
    expect(config.tokenEncryptionKeys?.map((k) => k.id)).toEqual(["new", "old"]);
    expect(problemsOf(testEnv({ TOKEN_ENCRYPTION_KEYS: `k:${a},k:${b}` })).join()).toMatch(/appears twice/);
  });

  test("the setup flow is chosen only when neither the app id nor a key is set", () => {
    expect(needsAppSetup({})).toBe(true);
    expect(needsAppSetup({ APP_ID: "1" })).toBe(false);
    expect(needsAppSetup({ PRIVATE_KEY_PATH: "k.pem" })).toBe(false);
  });
});
