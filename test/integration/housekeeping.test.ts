import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { migrateLatest } from "../../src/db/migrate";
import { createDeps } from "../../src/deps";
import { createLambdaApp } from "../../src/lambda/lambda-app";
import { startOctoplex } from "../../src/main";
import { jobEvent, lambdaContext } from "../fixtures/lambda-events";
import { testConfig, testEnv } from "../helpers/config";
import { createTestDatabase, databaseKinds } from "../helpers/databases";
import { ONLY_LIVE_ROWS, remainingExpiringRows, seedExpiringRows } from "../helpers/expiring-rows";
import { TestOctokit } from "../helpers/test-octokit";

const AT = new Date("2026-12-07T10:00:00.000Z");
const now = () => AT;

/** Expired sign-in states, sessions and rate-limit windows go; live ones stay: through each real entry. */
describe.each(databaseKinds())("purging expired rows on %s", (kind) => {
  test('the Lambda job {"octoplex":{"job":"housekeeping"}} (deploy/template.yaml\'s hourly schedule) deletes the expired rows only', async () => {
    const database = await createTestDatabase(kind);
    const deps = createDeps(testConfig(database.config), { Octokit: TestOctokit, log: pino({ level: "silent" }), now });
    try {
      await migrateLatest(deps.db);
      await seedExpiringRows(deps.db, AT);

      const report = await createLambdaApp(deps).handle(jobEvent("housekeeping"), lambdaContext());

      expect(report).toEqual({ oauthStates: 1, sessions: 1, rateLimits: 1, events: 1, githubPayloads: 1, githubAudit: 1 });
      expect(await remainingExpiringRows(deps.db)).toEqual(ONLY_LIVE_ROWS);
    } finally {
      await deps.close();
      await database.drop();
    }
  });

  test("the timer under npm start (startOctoplex) deletes the expired rows only", async () => {
    const database = await createTestDatabase(kind);
    const env = testEnv(database.config.client === "postgres" ? { DATABASE_URL: database.config.url } : {});
    const cwd = mkdtempSync(join(tmpdir(), "octoplex-housekeeping-"));
    const started = await startOctoplex(env, {
      port: 0,
      host: "127.0.0.1",
      Octokit: TestOctokit,
      log: pino({ level: "silent" }),
      cwd,
      now,
      housekeepingIntervalMs: 50,
    });
    const { db } = started.deps;
    try {
      await seedExpiringRows(db, AT);

      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && JSON.stringify(await remainingExpiringRows(db)) !== JSON.stringify(ONLY_LIVE_ROWS)) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }

      expect(await remainingExpiringRows(db)).toEqual(ONLY_LIVE_ROWS);
    } finally {
      await started.stop();
      await database.drop();
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
