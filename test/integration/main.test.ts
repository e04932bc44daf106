import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { ConfigError } from "../../src/config";
import { startOctoplex } from "../../src/main";
import { installationEvent } from "../fixtures/payloads";
import { testEnv } from "../helpers/config";
import { createTestDatabase, databaseKinds } from "../helpers/databases";
import { sign } from "../helpers/test-server";
import { TestOctokit } from "../helpers/test-octokit";

describe("starting Octoplex", () => {
  test("a missing WEBHOOK_SECRET and a malformed DATABASE_URL stop the start with one message naming both", async () => {
    const start = startOctoplex(testEnv({ WEBHOOK_SECRET: undefined, DATABASE_URL: "postgres//oops" }), { port: 0 });
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    const error = (await start.catch((e: unknown) => e)) as ConfigError;
    expect(error.message).toMatch(/^Invalid configuration:\n/);
    expect(error.problems).toEqual([
      expect.stringMatching(/^DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ connection URL/),
      expect.stringMatching(/^WEBHOOK_SECRET is required/),
    ]);
  });

  test.each(databaseKinds())("the start migrates an empty %s database and then serves webhooks", async (kind) => {
    const database = await createTestDatabase(kind);
    const env = testEnv(database.config.client === "postgres" ? { DATABASE_URL: database.config.url } : {});
    const cwd = mkdtempSync(join(tmpdir(), "octoplex-start-"));
    const { deps, running } = await startOctoplex(env, {
      port: 0,
      host: "127.0.0.1",
      Octokit: TestOctokit,
      log: pino({ level: "silent" }),
      cwd,
    });
    try {
      const body = JSON.stringify(installationEvent("created", { id: 4242 }));
      const res = await fetch(`${running.url}/api/github/webhooks`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-github-event": "installation", "x-github-delivery": "d-main", "x-hub-signature-256": sign(body) },
        body,
      });
      expect(res.status).toBe(200);
      expect(await deps.db("installations").pluck("account_login")).toEqual(["acme"]);
      if (kind === "sqlite") expect(existsSync(join(cwd, "data", "octoplex.sqlite"))).toBe(true);
    } finally {
      await running.close();
      await deps.close();
      await database.drop();
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
