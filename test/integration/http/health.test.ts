import { createTestDatabase, databaseKinds, TestDatabase } from "../../helpers/databases";
import { startTestServer, TestServer } from "../../helpers/test-server";

describe.each(databaseKinds())("GET /healthz on %s", (kind) => {
  let database: TestDatabase;
  let server: TestServer;

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    server = await startTestServer(database);
  });
  afterEach(async () => {
    await server.close().catch(() => undefined);
    await database.drop();
  });

  test("GET /healthz answers ok when the database answers", async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", database: "ok" });
  });

  test("GET /healthz answers 503 when the database cannot be reached", async () => {
    await server.deps.db.destroy();
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "unavailable", database: "unreachable" });
  });
});
