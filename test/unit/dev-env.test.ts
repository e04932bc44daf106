import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config";
import { completeDevelopmentEnv } from "../../src/dev-env";
import { testEnv } from "../helpers/config";

describe("completeDevelopmentEnv", () => {
  const dir = () => mkdtempSync(join(tmpdir(), "octoplex-devenv-"));
  const missing = { TOKEN_ENCRYPTION_KEYS: undefined, SESSION_SECRET: undefined, BASE_URL: undefined };

  test("after Probot's setup flow, generates the missing secrets once, writes them to .env, and the config then parses", () => {
    const cwd = dir();
    writeFileSync(join(cwd, ".env"), "APP_ID=1\n");
    const env = testEnv({ ...missing, PORT: "3100" });
    expect(completeDevelopmentEnv(env, cwd)).toEqual(["TOKEN_ENCRYPTION_KEYS", "SESSION_SECRET", "BASE_URL"]);
    const file = readFileSync(join(cwd, ".env"), "utf8");
    expect(file).toMatch(/^TOKEN_ENCRYPTION_KEYS=k1:[A-Za-z0-9+/]{43}=$/m);
    expect(file).toMatch(/^SESSION_SECRET=[0-9a-f]{64}$/m);
    expect(file).toMatch(/^BASE_URL=http:\/\/localhost:3100$/m);
    expect(parseConfig(env).baseUrl).toBe("http://localhost:3100");
    // A second start finds them and writes nothing.
    expect(completeDevelopmentEnv(env, cwd)).toEqual([]);
  });

  test("never in production, and never without a .env to write to", () => {
    const cwd = dir();
    expect(completeDevelopmentEnv(testEnv(missing), cwd)).toEqual([]);
    writeFileSync(join(cwd, ".env"), "");
    expect(completeDevelopmentEnv(testEnv({ ...missing, NODE_ENV: "production" }), cwd)).toEqual([]);
    expect(readFileSync(join(cwd, ".env"), "utf8")).toBe("");
  });
});
