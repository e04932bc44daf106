import { describeEachDatabase, postgresOnly } from "../../helpers/databases";

const MIGRATION = "20261207100000_event_tables_postgres_upkeep";

describeEachDatabase("the event tables' upkeep on Postgres", ({ db, kind }) => {
  const onPostgres = postgresOnly(kind, "SQLite has no autovacuum and no TOAST compression");

  const reloptions = async () => ((await db().raw("select reloptions from pg_class where relname = 'outbox_events'")).rows[0].reloptions ?? []) as string[];
  const payloadCompression = async () =>
    (await db().raw("select attcompression from pg_attribute where attrelid = 'github_event_payloads'::regclass and attname = 'payload'")).rows[0].attcompression as string;

  onPostgres("outbox_events is vacuumed after a fixed number of dead rows, not a fifth of the table; payloads are compressed with lz4; the migration rolls back and forward again", async () => {
    expect(await reloptions()).toEqual(
      expect.arrayContaining(["autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=5000", "autovacuum_analyze_scale_factor=0", "autovacuum_analyze_threshold=20000"]),
    );
    expect(await payloadCompression()).toBe("l");

    expect((await db().migrate.down({ name: MIGRATION }))[1]).toEqual([MIGRATION]);
    expect(await reloptions()).toEqual([]);
    expect(await payloadCompression()).toBe("");
    expect((await db().migrate.up({ name: MIGRATION }))[1]).toEqual([MIGRATION]);
    expect(await payloadCompression()).toBe("l");
  });

  test("a payload stored under the new compression reads back byte for byte", async () => {
    const payload = JSON.stringify({ text: "é😀".repeat(2000), n: 1 });
    await db()("github_event_payloads").insert({ delivery_id: "upkeep-1", installation_id: 1, event: "push", payload, created_at: new Date().toISOString() });
    expect(await db()("github_event_payloads").where({ delivery_id: "upkeep-1" }).first("payload")).toEqual({ payload });
  });
});
