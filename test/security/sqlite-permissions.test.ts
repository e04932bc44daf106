import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import { createKnex } from "../../src/db/knex";
import { migrateLatest } from "../../src/db/migrate";

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

/**
 * The SQLite file holds encrypted tokens, session hashes and the audit trail: nobody but the
 * account running Octoplex has any business reading it, its WAL or its shared memory.
 */
describe("the SQLite database's files on disk (db/knex.ts)", () => {
  let root: string;
  let db: Knex | undefined;
  const previousUmask = process.umask(0o022);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "octoplex-perm-"));
  });
  afterEach(async () => {
    await db?.destroy();
    db = undefined;
    rmSync(root, { recursive: true, force: true });
  });
  afterAll(() => process.umask(previousUmask));

  /** Opens through the app's createKnex and writes, so the WAL and its shared memory exist. */
  async function openAndWrite(filename: string): Promise<void> {
    db = createKnex({ client: "sqlite", filename });
    await migrateLatest(db);
    await db("teams").insert({ name: "probe", created_at: new Date().toISOString(), updated_at: new Date().toISOString() });
  }

  test("a fresh database creates its directory 0700 and the database, -wal and -shm files 0600, even under umask 022", async () => {
    const dir = join(root, "data", "nested");
    const filename = join(dir, "octoplex.sqlite");
    await openAndWrite(filename);

    expect(existsSync(`${filename}-wal`)).toBe(true);
    expect({ dir: modeOf(dir), parent: modeOf(join(root, "data")), file: modeOf(filename), wal: modeOf(`${filename}-wal`), shm: modeOf(`${filename}-shm`) }).toEqual({
      dir: "700",
      parent: "700",
      file: "600",
      wal: "600",
      shm: "600",
    });
  });

  test("an existing database file left world-readable (by an earlier version) is made 0600, and so are its WAL files", async () => {
    const dir = join(root, "chosen");
    mkdirSync(dir, { mode: 0o755 });
    const filename = join(dir, "octoplex.sqlite");
    writeFileSync(filename, "");
    chmodSync(filename, 0o644);
    await openAndWrite(filename);

    expect({ file: modeOf(filename), wal: modeOf(`${filename}-wal`), shm: modeOf(`${filename}-shm`) }).toEqual({ file: "600", wal: "600", shm: "600" });
    // A directory the operator made and chose is theirs: its mode is left as they set it.
    expect(modeOf(dir)).toBe("755");
  });
});
