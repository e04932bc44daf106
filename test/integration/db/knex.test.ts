import type { Knex } from "knex";
import { createKnex, withoutQueryTimeout } from "../../../src/db/knex";

// Every connection error here is one the test causes and asserts on.
const QUIET = { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined };
import { isDatabaseUnavailable } from "../../../src/services/health";
import { createTestDatabase, databaseKinds, TestDatabase } from "../../helpers/databases";
import { FreezableProxy, freezableProxy } from "../../helpers/freezable-proxy";

const TIMEOUT_MS = 400;

const backendPid = async (db: Knex) => Number((await db.raw("select pg_backend_pid() as pid")).rows[0].pid);

const onPostgres = databaseKinds().includes("postgres") ? describe : describe.skip;

onPostgres("a Postgres knex (db/knex.ts) with a timeout, in front of a server that stops answering", () => {
  let database: TestDatabase;
  let proxy: FreezableProxy;
  let db: Knex;

  beforeAll(async () => {
    database = await createTestDatabase("postgres");
  });
  beforeEach(async () => {
    proxy = await freezableProxy(new URL((database.config as { url: string }).url));
    db = createKnex({ client: "postgres", url: proxy.url, timeoutMs: TIMEOUT_MS }, { poolMax: 2, log: QUIET });
  });
  afterEach(async () => {
    proxy.thaw();
    await db.destroy();
    await proxy.close();
  });
  afterAll(() => database?.drop());

  test("a query on an open connection that gets no answer fails after the timeout as the database unavailable, and the pool drops that connection", async () => {
    const before = await backendPid(db);
    proxy.freeze();
    const started = Date.now();
    const error = await db.raw("select 1").catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect({ code: (error as { code?: string }).code, unavailable: isDatabaseUnavailable(error) }).toEqual({ code: "ETIMEDOUT", unavailable: true });
    expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(waited).toBeLessThan(TIMEOUT_MS + 1_000);

    proxy.thaw();
    // Served again at once, on a new connection: the closed one is not handed out again.
    expect(await backendPid(db)).not.toBe(before);
  });

  test("a transaction whose query gets no answer fails as unavailable, and nothing of it is kept once the server answers again", async () => {
    await db.schema.createTable("knex_timeout_probe", (t) => t.integer("n"));
    try {
      const written = db.transaction(async (trx) => {
        await trx("knex_timeout_probe").insert({ n: 1 });
        proxy.freeze();
        await trx("knex_timeout_probe").insert({ n: 2 });
      });
      expect(isDatabaseUnavailable(await written.catch((e: unknown) => e))).toBe(true);
      proxy.thaw();
      expect(await db("knex_timeout_probe").count({ n: "*" })).toEqual([{ n: "0" }]);
    } finally {
      proxy.thaw();
      await db.schema.dropTableIfExists("knex_timeout_probe");
    }
  });

  test("a new connection that the server accepts and never answers fails after the timeout as unavailable", async () => {
    proxy.freeze();
    const started = Date.now();
    const error = await db.raw("select 1").catch((e: unknown) => e);
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1_000);
  });

  test("migrations (withoutQueryTimeout) may run longer than the timeout; other queries may not", async () => {
    const slow = (k: Knex) => k.raw(`select pg_sleep(${(TIMEOUT_MS * 2) / 1000}) as slept`);
    expect(isDatabaseUnavailable(await slow(db).catch((e: unknown) => e))).toBe(true);
    expect((await withoutQueryTimeout(db, slow)).rows).toEqual([{ slept: "" }]);
  });
});

describe("a SQLite knex (db/knex.ts)", () => {
  test("its connection runs in WAL mode with foreign keys on, checkpoints every 10,000 pages rather than SQLite's 1,000, and caches 32 MB of pages", async () => {
    const database = await createTestDatabase("sqlite");
    const db = createKnex(database.config);
    try {
      const pragma = async (name: string) => Object.values((await db.raw(`PRAGMA ${name}`))[0])[0];
      const settings = { journal: "journal_mode", foreignKeys: "foreign_keys", checkpointEvery: "wal_autocheckpoint", cacheKiB: "cache_size" };
      const read = Object.fromEntries(await Promise.all(Object.entries(settings).map(async ([k, name]) => [k, await pragma(name)])));
      expect(read).toEqual({ journal: "wal", foreignKeys: 1, checkpointEvery: 10000, cacheKiB: -32768 });
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
