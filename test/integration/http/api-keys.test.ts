import { randomBytes } from "node:crypto";
import { sha256 } from "../../../src/crypto/secrets";
import { listApiKeys } from "../../../src/repositories/api-keys";
import { errorCode, Hop, request } from "../../helpers/browser";
import type { CliRun } from "../../helpers/cli";
import { findSecretsInDatabase } from "../../helpers/database-scan";
import { describeEachServerWithCli } from "../../helpers/test-server";
import { ALICE, seedSignedInUser } from "../../helpers/users";

describeEachServerWithCli("API keys", ({ server, db, cli }) => {
  /** `octoplex api-key create --name <name>`, as an operator runs it next to the server. */
  async function createKey(name = "platform"): Promise<{ run: CliRun; key: string; id: number }> {
    const run = await cli().run(["api-key", "create", "--name", name]);
    expect(run.exitCode).toBe(0);
    const id = Number(/^Created API key (\d+) /.exec(run.out[0] ?? "")?.[1]);
    return { run, key: run.out.find((line) => line.startsWith("opx_")) ?? "", id };
  }

  /** GET /api/me as a platform server: the key, and the GitHub user it acts for unless null. */
  function meAsKey(key: string, user: string | null = String(ALICE.id)): Promise<Hop> {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (user !== null) headers["x-octoplex-user"] = user;
    return request(`${server().url}/api/me`, { headers });
  }

  function expectError(hop: Hop, status: number, code: string): void {
    expect({ status: hop.status, code: errorCode(hop.body) }).toEqual({ status, code });
    expect(hop.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  }

  const unknownKey = () => `opx_${randomBytes(32).toString("base64url")}`;

  test("api-key create --name platform prints an opx_ key once; the database holds only its sha256 hash", async () => {
    const { run, key, id } = await createKey("platform");

    expect(key).toMatch(/^opx_[A-Za-z0-9_-]{43}$/);
    expect(run.out).toEqual([`Created API key ${id} (platform). It is shown only this once:`, key]);
    const printed = [...run.out, ...run.err, ...run.progress].join("\n");
    expect(printed.split(key)).toHaveLength(2);

    const rows = await db()("api_keys");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: "platform", key_hash: sha256(key), prefix: key.slice(0, 10) });
    expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
    // No column of any table holds the key, nor its random part without the prefix.
    expect(await findSecretsInDatabase(db(), [key, key.slice("opx_".length)])).toEqual([]);
  });

  test("GET /api/me with the key and X-Octoplex-User answers as that user", async () => {
    await seedSignedInUser(server().deps, ALICE);
    const { key } = await createKey();

    const me = await meAsKey(key);

    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      user: { id: ALICE.id, login: ALICE.login, name: null, avatarUrl: null },
      authorization: "active",
      teams: [],
    });
  });

  test("GET /api/me with the key but without X-Octoplex-User answers 400 user_required", async () => {
    await seedSignedInUser(server().deps, ALICE);
    const { key } = await createKey();

    expectError(await meAsKey(key, null), 400, "user_required");
  });

  test.each(["abc", "-1", "1.5", "1 OR 1=1", "0", "0x10", "5001abc", "", "9007199254740993", "12345678901234567"])(
    "GET /api/me with X-Octoplex-User %j answers 400 invalid_input",
    async (user) => {
      await seedSignedInUser(server().deps, ALICE);
      const { key } = await createKey();

      const hop = await meAsKey(key, user);

      expectError(hop, 400, "invalid_input");
      expect(hop.body).toEqual({
        error: {
          code: "invalid_input",
          message: "X-Octoplex-User must be a GitHub user id (a positive integer)",
          details: [{ path: "headers.x-octoplex-user", message: "must be a GitHub user id (a positive integer)" }],
        },
      });
    },
  );

  test("GET /api/me with an unknown key, a key without the prefix or another scheme answers 401 unauthenticated", async () => {
    await seedSignedInUser(server().deps, ALICE);
    const { key } = await createKey();

    expectError(await meAsKey(unknownKey()), 401, "unauthenticated");
    expectError(await meAsKey(key.slice("opx_".length)), 401, "unauthenticated");
    expectError(await meAsKey(`${key}x`), 401, "unauthenticated");
    for (const authorization of [`Basic ${key}`, "Bearer", `Bearer ${key} ${key}`]) {
      const hop = await request(`${server().url}/api/me`, { headers: { authorization, "x-octoplex-user": String(ALICE.id) } });
      expectError(hop, 401, "unauthenticated");
    }
    // The key is checked before the header, so a bad header does not tell a prober the key is wrong or right.
    expectError(await meAsKey(unknownKey(), "abc"), 401, "unauthenticated");
  });

  test.each([
    ["Basic", (key: string) => `Basic ${Buffer.from(`user:${key}`).toString("base64")}`],
    ["Basic with the bare key", (key: string) => `Basic ${key}`],
    ["Token", (key: string) => `Token ${key}`],
    ["a bare key without a scheme", (key: string) => key],
  ])("GET /api/me with Authorization %s answers 401 unauthenticated saying a Bearer API key is expected", async (_scheme, header) => {
    await seedSignedInUser(server().deps, ALICE);
    const { key } = await createKey();

    const hop = await request(`${server().url}/api/me`, { headers: { authorization: header(key), "x-octoplex-user": String(ALICE.id) } });

    expectError(hop, 401, "unauthenticated");
    expect((hop.body as { error: { message: string } }).error.message).toMatch(/Bearer API key/);
  });

  test("api-key revoke ID: the key then answers 401, other keys still work, and a second revoke fails", async () => {
    await seedSignedInUser(server().deps, ALICE);
    const revoked = await createKey("old");
    const kept = await createKey("new");
    expect((await meAsKey(revoked.key)).status).toBe(200);

    const run = await cli().run(["api-key", "revoke", String(revoked.id)]);

    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual([`Revoked API key ${revoked.id}`]);
    expectError(await meAsKey(revoked.key), 401, "unauthenticated");
    expect((await meAsKey(kept.key)).status).toBe(200);

    const again = await cli().run(["api-key", "revoke", String(revoked.id)]);
    expect(again.exitCode).toBe(1);
    expect(again.err).toEqual([`octoplex: no active API key with id ${revoked.id}`]);
  });

  test("api-key list shows each key's prefix, last use and revocation time, never the key", async () => {
    await seedSignedInUser(server().deps, ALICE);
    const used = await createKey("used");
    const revoked = await createKey("revoked");
    expect((await meAsKey(used.key)).status).toBe(200);
    expect((await cli().run(["api-key", "revoke", String(revoked.id)])).exitCode).toBe(0);
    const [usedRow, revokedRow] = await listApiKeys(db());
    expect(usedRow.lastUsedAt).not.toBeNull();
    expect(revokedRow.revokedAt).not.toBeNull();

    const table = await cli().run(["api-key", "list"]);
    const json = await cli().run(["api-key", "list", "--json"]);

    expect(table.exitCode).toBe(0);
    expect(table.out[0]).toMatch(/^ID\s+NAME\s+PREFIX\s+TEAMS\s+CREATED\s+LAST USED\s+REVOKED$/);
    expect(table.out.slice(1).map((line) => line.split(/\s+/))).toEqual([
      [String(used.id), "used", `${used.key.slice(0, 10)}…`, "all", usedRow.createdAt.toISOString(), usedRow.lastUsedAt!.toISOString(), "-"],
      [String(revoked.id), "revoked", `${revoked.key.slice(0, 10)}…`, "all", revokedRow.createdAt.toISOString(), "-", revokedRow.revokedAt!.toISOString()],
    ]);
    expect(JSON.parse(json.out.join("\n"))).toEqual([
      { id: used.id, name: "used", prefix: used.key.slice(0, 10), teamIds: null, createdAt: usedRow.createdAt.toISOString(), lastUsedAt: usedRow.lastUsedAt!.toISOString(), revokedAt: null },
      { id: revoked.id, name: "revoked", prefix: revoked.key.slice(0, 10), teamIds: null, createdAt: revokedRow.createdAt.toISOString(), lastUsedAt: null, revokedAt: revokedRow.revokedAt!.toISOString() },
    ]);
    const printed = [...table.out, ...table.err, ...json.out, ...json.err].join("\n");
    for (const { key } of [used, revoked]) {
      expect(printed).not.toContain(key.slice(10));
      expect(printed).not.toContain(sha256(key));
    }
  });

  test("GET /api/me with neither a session nor a key answers 401 unauthenticated, X-Octoplex-User or not", async () => {
    await seedSignedInUser(server().deps, ALICE);

    expectError(await request(`${server().url}/api/me`), 401, "unauthenticated");
    expectError(await request(`${server().url}/api/me`, { headers: { "x-octoplex-user": String(ALICE.id) } }), 401, "unauthenticated");
  });
});
