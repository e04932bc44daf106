import { parseConfig } from "../../../src/config";
import { createTokenCipher } from "../../../src/crypto/token-cipher";
import { migrateLatest } from "../../../src/db/migrate";
import { createDeps, Deps } from "../../../src/deps";
import { accessContext, refreshContext } from "../../../src/services/identity/user-tokens";
import { CliRun, CliTarget, createCliTarget } from "../../helpers/cli";
import { TEST_KEY_K1, TEST_KEY_K2 } from "../../helpers/config";
import { databaseKinds, truncateAll } from "../../helpers/databases";
import type { TestTokens, TestUser } from "../../helpers/github-oauth";
import { captureLogger } from "../../helpers/log-capture";
import { seedSignedInUser } from "../../helpers/users";

const USERS: TestUser[] = [1, 2, 3, 4, 5].map((i) => ({ id: 6000 + i, login: `user-${i}` }));
/** The last user's token never expires and comes without a refresh token. */
const NON_EXPIRING = USERS[4];

const K2_THEN_K1 = `${TEST_KEY_K2},${TEST_KEY_K1}`;

interface TokenRow {
  github_user_id: number | string;
  key_id: string;
  access_token_encrypted: string;
  refresh_token_encrypted: string | null;
  version: number | string;
}

describe.each(databaseKinds())("octoplex rotate-keys on %s", (kind) => {
  let target: CliTarget;
  let tokens: Map<number, TestTokens>;
  const db = () => target.db;

  /** The app's own services on the CLI's database, with TOKEN_ENCRYPTION_KEYS set to `keys`. */
  async function withDeps<T>(keys: string, work: (deps: Deps) => Promise<T>): Promise<T> {
    const config = parseConfig({ ...target.env, TOKEN_ENCRYPTION_KEYS: keys }, "server", target.cwd);
    const deps = createDeps(config, { log: captureLogger() });
    try {
      return await work(deps);
    } finally {
      await deps.close();
    }
  }

  const rotate = (keys: string | undefined, extraEnv: NodeJS.ProcessEnv = {}) =>
    target.run(["rotate-keys"], { TOKEN_ENCRYPTION_KEYS: keys, ...extraEnv });

  const rows = async (): Promise<TokenRow[]> => db()("user_tokens").orderBy("github_user_id");

  /** Every stored token decrypts to what was stored, with only `keys` configured. */
  async function expectReadableWith(keys: string): Promise<void> {
    const cipher = createTokenCipher(parseConfig({ ...target.env, TOKEN_ENCRYPTION_KEYS: keys }, "encryption", target.cwd).tokenEncryptionKeys!);
    await withDeps(keys, async ({ services }) => {
      for (const user of USERS) {
        expect(await services.auth!.userTokens.get(user.id)).toBe(tokens.get(user.id)!.token);
      }
    });
    for (const row of await rows()) {
      const id = Number(row.github_user_id);
      const refresh = row.refresh_token_encrypted && cipher.decrypt(row.refresh_token_encrypted, refreshContext(id));
      expect(refresh).toBe(id === NON_EXPIRING.id ? null : tokens.get(id)!.refreshToken);
      expect(cipher.decrypt(row.access_token_encrypted, accessContext(id))).toBe(tokens.get(id)!.token);
    }
  }

  function expectSummary(run: CliRun, line: string): void {
    expect({ exitCode: run.exitCode, out: run.out, err: run.err }).toEqual({ exitCode: 0, out: [line], err: [] });
  }

  beforeAll(async () => {
    target = await createCliTarget(kind);
    await migrateLatest(db());
  });
  beforeEach(async () => {
    await truncateAll(db());
    tokens = new Map();
    await withDeps(TEST_KEY_K1, async (deps) => {
      for (const user of USERS) {
        tokens.set(user.id, await seedSignedInUser(deps, user, { expiresInMs: user === NON_EXPIRING ? null : undefined }));
      }
    });
  });
  afterAll(() => target?.close());

  test("the seeded tokens are all under k1, some with refresh tokens", async () => {
    const before = await rows();
    expect(before.map((r) => r.key_id)).toEqual(["k1", "k1", "k1", "k1", "k1"]);
    expect(before.filter((r) => r.refresh_token_encrypted !== null)).toHaveLength(4);
  });

  test("with keys k2,k1 it re-encrypts every token row with k2 and prints the counts", async () => {
    const before = await rows();

    const run = await rotate(K2_THEN_K1);

    expectSummary(run, "Re-encrypted 5 token row(s) with key k2; 0 already used it");
    expect(run.progress[0]).toBe("Re-encrypting: [------------------------] 0/5");
    expect(run.progress.at(-2)).toBe("Re-encrypting: [########################] 5/5");
    expect(run.progress.at(-1)).toBe("");

    const after = await rows();
    expect(after.map((r) => r.key_id)).toEqual(["k2", "k2", "k2", "k2", "k2"]);
    for (const [i, row] of after.entries()) {
      expect(row.access_token_encrypted.startsWith("k2:")).toBe(true);
      expect(row.access_token_encrypted).not.toBe(before[i].access_token_encrypted);
      if (Number(row.github_user_id) === NON_EXPIRING.id) expect(row.refresh_token_encrypted).toBeNull();
      else expect(row.refresh_token_encrypted?.startsWith("k2:")).toBe(true);
      expect(Number(row.version)).toBe(Number(before[i].version) + 1);
    }
  });

  test("after rotating, every token decrypts to the original with k1 dropped (keys k2 only)", async () => {
    expect((await rotate(K2_THEN_K1)).exitCode).toBe(0);

    await expectReadableWith(TEST_KEY_K2);
  });

  test("a second run re-encrypts 0 rows and changes nothing", async () => {
    expect((await rotate(K2_THEN_K1)).exitCode).toBe(0);
    const once = await rows();

    expectSummary(await rotate(K2_THEN_K1), "Re-encrypted 0 token row(s) with key k2; 5 already used it");
    expect(await rows()).toEqual(once);
  });

  test("with only k2 configured, a row under k1 fails loudly, naming key k1, and changes nothing", async () => {
    const before = await rows();

    const run = await rotate(TEST_KEY_K2);

    expect(run.exitCode).toBe(1);
    expect(run.out).toEqual([]);
    expect(run.err).toEqual([
      'octoplex: stored tokens are encrypted with key(s) "k1", which TOKEN_ENCRYPTION_KEYS no longer lists; keep the old key after the new one (new,old) until rotate-keys has run',
    ]);
    // The terminal's progress line is cleared, so the message is not written after it.
    expect(run.progress.at(-1)).toBe("");
    expect(await rows()).toEqual(before);
    await expectReadableWith(TEST_KEY_K1);
  });

  test("without TOKEN_ENCRYPTION_KEYS it fails listing every configuration problem, before touching a row", async () => {
    const before = await rows();

    const missing = await rotate(undefined);
    const alsoBadUrl = await rotate(undefined, { DATABASE_URL: "mysql://db.example/octoplex" });

    expect(missing.exitCode).toBe(1);
    expect(missing.err).toEqual([
      "Invalid configuration:",
      "  - TOKEN_ENCRYPTION_KEYS is required (id:base64-of-32-bytes[,…] that encrypt user tokens at rest)",
    ]);
    expect(alsoBadUrl.exitCode).toBe(1);
    expect(alsoBadUrl.err).toEqual([
      "Invalid configuration:",
      "  - DATABASE_URL must be a postgres:// or postgresql:// connection URL with a host",
      "  - TOKEN_ENCRYPTION_KEYS is required (id:base64-of-32-bytes[,…] that encrypt user tokens at rest)",
    ]);
    expect(await rows()).toEqual(before);
  });

  test("with a malformed TOKEN_ENCRYPTION_KEYS it fails naming the bad entry", async () => {
    const run = await rotate(`${TEST_KEY_K2},k1:tooshort`);

    expect(run.exitCode).toBe(1);
    expect(run.err).toEqual(["Invalid configuration:", "  - TOKEN_ENCRYPTION_KEYS entry 2 must be id:base64 of 32 bytes"]);
    expect((await rows()).map((r) => r.key_id)).toEqual(["k1", "k1", "k1", "k1", "k1"]);
  });
});
