import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { createDeps } from "../../src/deps";
import { createHttpApp } from "../../src/http/create-http-app";
import { testConfig } from "../helpers/config";
import { createTestDatabase, TestDatabase } from "../helpers/databases";
import { servedRoutes } from "../helpers/express-routes";
import { captureLogger } from "../helpers/log-capture";

describe("openapi.yaml", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
  });
  afterAll(() => database.drop());

  test("documents exactly the routes the server serves", async () => {
    const deps = createDeps(testConfig(database.config), { log: captureLogger() });
    try {
      const served = servedRoutes(createHttpApp(deps));
      const spec = load(readFileSync(join(__dirname, "../../openapi.yaml"), "utf8")) as { paths: Record<string, Record<string, unknown>> };
      const documented = Object.entries(spec.paths)
        .flatMap(([path, ops]) => Object.keys(ops).filter((k) => k !== "parameters").map((m) => `${m.toUpperCase()} ${path}`))
        .sort();
      expect(served.length).toBeGreaterThan(10);
      expect(documented).toEqual(served);
    } finally {
      await deps.close();
    }
  });
});
