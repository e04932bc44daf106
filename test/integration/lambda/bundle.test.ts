import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Knex } from "knex";
import { createKnex } from "../../../src/db/knex";
import { apiGatewayV2Event, jobEvent, jsonBody, LambdaHttpResult, webhookRequest } from "../../fixtures/lambda-events";
import { installationEvent } from "../../fixtures/payloads";
import { testEnv } from "../../helpers/config";
import { createTestDatabase, databaseKinds, TestDatabase } from "../../helpers/databases";

const run = promisify(execFile);
const ROOT = join(__dirname, "../../..");

/**
 * What the Lambda runtime does with the package: load handler.js in a fresh node, then invoke
 * `handler` once per event. Prints the results as one JSON line.
 */
const CHILD = `
const { handler } = require(process.argv[1]);
(async () => {
  const results = [];
  for (const event of JSON.parse(process.env.OCTOPLEX_TEST_EVENTS)) results.push(await handler(event, { awsRequestId: "bundle-test" }));
  process.stdout.write(JSON.stringify(results) + "\\n");
  process.exit(0); // the module's pool would keep the process alive, as it does across warm invocations
})().catch((error) => { console.error(error && error.stack || error); process.exit(1); });
`;

(databaseKinds().includes("postgres") ? describe : describe.skip)("the Lambda bundle (npm run bundle)", () => {
  let dir: string;
  let database: TestDatabase;
  let db: Knex;

  beforeAll(async () => {
    // Its own directory, outside the repository: no node_modules to fall back on, as on Lambda,
    // and parallel runs never share a file.
    dir = mkdtempSync(join(tmpdir(), "octoplex-bundle-"));
    await run(process.execPath, [join(ROOT, "scripts/bundle.js"), "--outfile", join(dir, "handler.js")], { cwd: ROOT });
    database = await createTestDatabase("postgres");
    db = createKnex(database.config);
  }, 60_000);
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("is one file plus its source map, licences and the OpenAPI document", () => {
    expect(readdirSync(dir).sort()).toEqual(["handler.js", "handler.js.LEGAL.txt", "handler.js.map", "openapi.yaml"]);
  });

  test("loaded in a fresh node process, it runs the migrate job, answers a signed webhook with 200 against Postgres, and serves the express routes", async () => {
    if (database.config.client !== "postgres") throw new Error("expected a Postgres database");
    const events = [
      jobEvent("migrate"),
      apiGatewayV2Event(webhookRequest("installation", installationEvent("created", { id: 4601 }), { deliveryId: "d-bundle-4601" })),
      apiGatewayV2Event({ method: "GET", path: "/healthz" }),
      apiGatewayV2Event({ method: "GET", path: "/auth/login", query: "return_to=%2F" }),
      apiGatewayV2Event({ method: "GET", path: "/openapi.json" }),
    ];
    const env = { PATH: process.env.PATH, ...testEnv({ DATABASE_URL: database.config.url, LOG_LEVEL: "warn", LOG_FORMAT: "json" }), OCTOPLEX_TEST_EVENTS: JSON.stringify(events) };

    const { stdout } = await run(process.execPath, ["-e", CHILD, join(dir, "handler.js")], { cwd: dir, env, timeout: 30_000 });

    const [migrated, webhook, health, login, openapi] = JSON.parse(stdout.trim().split("\n").pop()!) as [{ applied: string[] }, ...LambdaHttpResult[]];
    expect(migrated.applied.length).toBeGreaterThan(0);
    expect(webhook.statusCode).toBe(200);
    expect(jsonBody(webhook)).toEqual({ ok: true });
    expect(health.statusCode).toBe(200);
    expect(login.statusCode).toBe(302);
    expect(login.cookies).toEqual([expect.stringMatching(/^octoplex_login_state=/)]);
    expect(openapi.statusCode).toBe(200);
    expect(jsonBody(openapi)).toMatchObject({ paths: { "/healthz": expect.any(Object) } });
    expect((await db("installations").pluck("id")).map(Number)).toEqual([4601]);
    expect(await db("webhook_deliveries").pluck("id")).toEqual(["d-bundle-4601"]);
  }, 60_000);
});
