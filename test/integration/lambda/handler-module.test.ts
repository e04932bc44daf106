import type { Knex } from "knex";
import { createKnex } from "../../../src/db/knex";
import type { Deps } from "../../../src/deps";
import { migrateLatest } from "../../../src/db/migrate";
import { apiGatewayV2Event, jsonBody, lambdaContext, LambdaHttpResult, webhookRequest } from "../../fixtures/lambda-events";
import { installationEvent } from "../../fixtures/payloads";
import { testEnv } from "../../helpers/config";
import { createTestDatabase, databaseKinds, TestDatabase } from "../../helpers/databases";

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

interface ImportedHandler {
  handler: Handler;
  /** Closes the pool the module opened (a passing-through spy on createDeps saw it). */
  close(): Promise<void>;
}

/** src/lambda/handler.ts imported afresh, as the Lambda runtime does at a cold start: it reads process.env at import. */
function importHandler(env: NodeJS.ProcessEnv): ImportedHandler {
  const saved = process.env;
  process.env = { PATH: saved.PATH, ...env };
  const created: Deps[] = [];
  try {
    let handler: Handler | undefined;
    jest.isolateModules(() => {
      const depsModule = require("../../../src/deps") as typeof import("../../../src/deps");
      const createDeps = depsModule.createDeps;
      jest.spyOn(depsModule, "createDeps").mockImplementation((...args) => {
        const deps = createDeps(...args);
        created.push(deps);
        return deps;
      });
      handler = (require("../../../src/lambda/handler") as { handler: Handler }).handler;
    });
    return { handler: handler!, close: async () => void (await Promise.all(created.map((d) => d.close()))) };
  } finally {
    process.env = saved;
  }
}

describe("src/lambda/handler.ts, imported as the Lambda runtime does", () => {
  test("importing it without DATABASE_URL throws, naming DATABASE_URL", () => {
    expect(() => importHandler(testEnv())).toThrow(/DATABASE_URL is required on Lambda/);
  });

  test("importing it with a broken configuration throws one error listing every problem", () => {
    const env = testEnv({ DATABASE_URL: "postgres://db.example/octoplex", WEBHOOK_SECRET: "", SESSION_SECRET: "short" });
    expect(() => importHandler(env)).toThrow(/WEBHOOK_SECRET is required[\s\S]*SESSION_SECRET must be at least 32 characters|SESSION_SECRET must be at least 32 characters[\s\S]*WEBHOOK_SECRET is required/);
  });

  const postgres = databaseKinds().includes("postgres");
  (postgres ? describe : describe.skip)("on Postgres", () => {
    let database: TestDatabase;
    let db: Knex;
    let imported: ImportedHandler | undefined;

    beforeAll(async () => {
      database = await createTestDatabase("postgres");
      db = createKnex(database.config);
      await migrateLatest(db); // on Lambda: `octoplex migrate` or the migrate job, not every cold start
    });
    afterAll(async () => {
      await imported?.close();
      await db?.destroy();
      await database?.drop();
    });

    test("initialises from process.env at import and answers a signed webhook with 200, storing the installation", async () => {
      if (database.config.client !== "postgres") throw new Error("expected a Postgres database");
      imported = importHandler(testEnv({ DATABASE_URL: database.config.url }));

      const result = (await imported.handler(
        apiGatewayV2Event(webhookRequest("installation", installationEvent("created", { id: 4501 }), { deliveryId: "d-module-4501" })),
        lambdaContext(),
      )) as LambdaHttpResult;

      expect(result.statusCode).toBe(200);
      expect(jsonBody(result)).toEqual({ ok: true });
      expect((await db("installations").pluck("id")).map(Number)).toEqual([4501]);
      expect(await db("webhook_deliveries").pluck("id")).toEqual(["d-module-4501"]);
    });
  });
});
