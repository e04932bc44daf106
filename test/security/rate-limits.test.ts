import { randomBytes } from "node:crypto";
import { countRows } from "../helpers/factories";
import { createTestDatabase, databaseKinds, TestDatabase, truncateAll } from "../helpers/databases";
import { startTestServer, TestServer } from "../helpers/test-server";
import { ALICE, seedSignedInUser } from "../helpers/users";

// The production defaults (src/config.ts): these tests hold them, not lowered copies.
const SIGN_INS_PER_MINUTE = 30;
const FAILED_KEYS_PER_MINUTE = 20;
// 10 s into a minute: the fixed window ends 50 s later.
const START = new Date("2026-12-07T10:00:10.000Z");

interface Answer {
  status: number;
  retryAfter: string | null;
  body: unknown;
  text: string;
}

async function send(url: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { headers, redirect: "manual" });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // a redirect's empty or HTML body
  }
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body, text };
}

/**
 * Anonymous sign-in starts and wrong API keys, counted per client address in the database: two
 * servers on one database stand for two instances behind a load balancer. Requests come from
 * loopback, so X-Forwarded-For names the client (trust proxy "loopback", as behind a local proxy).
 */
describe.each(databaseKinds())("rate limits on %s", (kind) => {
  let database: TestDatabase;
  let first: TestServer;
  let second: TestServer;
  let at: Date;
  const now = () => at;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    first = await startTestServer(database, {}, 0, { now });
    second = await startTestServer(database, {}, 0, { now });
  });
  beforeEach(async () => {
    at = START;
    await truncateAll(first.deps.db);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await database?.drop();
  });

  const db = () => first.deps.db;
  const login = (address: string, server = first) => send(`${server.url}/auth/login`, { "x-forwarded-for": address });
  const me = (key: string, address: string, server = first) =>
    send(`${server.url}/api/me`, { authorization: `Bearer ${key}`, "x-octoplex-user": String(ALICE.id), "x-forwarded-for": address });
  const unknownKey = () => `opx_${randomBytes(32).toString("base64url")}`;

  async function times<T>(count: number, work: (i: number) => Promise<T>): Promise<T[]> {
    const results: T[] = [];
    for (let i = 0; i < count; i++) results.push(await work(i));
    return results;
  }

  function expectRateLimited(answer: Answer, retryAfter: string): void {
    expect(answer.status).toBe(429);
    expect(answer.retryAfter).toBe(retryAfter);
    expect(answer.body).toEqual({ error: { code: "rate_limited", message: expect.stringMatching(/from this address; try again in \d+ s$/) } });
  }

  describe("GET /auth/login", () => {
    test("the 31st start from one address within a minute answers 429 rate_limited with Retry-After and stores no sign-in state", async () => {
      const allowed = await times(SIGN_INS_PER_MINUTE, () => login("203.0.113.7"));
      expect(allowed.map((a) => a.status)).toEqual(Array(SIGN_INS_PER_MINUTE).fill(302));
      expect(await countRows(db(), "oauth_states")).toBe(SIGN_INS_PER_MINUTE);

      const refused = await login("203.0.113.7");

      expectRateLimited(refused, "50");
      expect(await countRows(db(), "oauth_states")).toBe(SIGN_INS_PER_MINUTE);
    });

    test("another address is not limited by the first one's starts", async () => {
      await times(SIGN_INS_PER_MINUTE + 1, () => login("203.0.113.7"));

      expect((await login("198.51.100.20")).status).toBe(302);
      expect((await login("2001:db8::1")).status).toBe(302);
    });

    test("addresses in one IPv6 /64 share a count, the next /64 has its own", async () => {
      await times(SIGN_INS_PER_MINUTE, (i) => login(`2001:db8:0:1::${(i + 1).toString(16)}`));

      expectRateLimited(await login("2001:0db8:0000:0001:ffff:ffff:ffff:ffff"), "50");
      expect((await login("2001:db8:0:2::1")).status).toBe(302);
    });

    test("an IPv4 address mapped into IPv6 counts as the IPv4 address", async () => {
      await times(SIGN_INS_PER_MINUTE, () => login("203.0.113.7"));

      expectRateLimited(await login("::ffff:203.0.113.7"), "50");
    });

    test("two instances on one database share the count: starts on either add up to one limit", async () => {
      const half = SIGN_INS_PER_MINUTE / 2;
      await times(half, () => login("203.0.113.7", first));
      await times(half, () => login("203.0.113.7", second));

      expectRateLimited(await login("203.0.113.7", first), "50");
      expectRateLimited(await login("203.0.113.7", second), "50");
      expect(await countRows(db(), "oauth_states")).toBe(SIGN_INS_PER_MINUTE);
    });

    test("concurrent starts on two instances let exactly the limit through (one atomic count, no lost updates)", async () => {
      const answers = await Promise.all(
        Array.from({ length: SIGN_INS_PER_MINUTE + 10 }, (_, i) => login("203.0.113.7", i % 2 === 0 ? first : second)),
      );

      expect(answers.filter((a) => a.status === 302)).toHaveLength(SIGN_INS_PER_MINUTE);
      expect(answers.filter((a) => a.status === 429)).toHaveLength(10);
      expect(await countRows(db(), "oauth_states")).toBe(SIGN_INS_PER_MINUTE);
    });

    test("the limit lifts when the minute's window ends, and Retry-After counts down to it", async () => {
      await times(SIGN_INS_PER_MINUTE, () => login("203.0.113.7"));
      at = new Date(START.getTime() + 35_000);
      expectRateLimited(await login("203.0.113.7"), "15");

      at = new Date(START.getTime() + 50_000);

      expect((await login("203.0.113.7")).status).toBe(302);
    });

    test("the database holds no client address, only a keyed hash of it", async () => {
      await login("203.0.113.7");

      const rows = await db()("rate_limits").select("bucket", "count");
      expect(rows).toEqual([{ bucket: expect.stringMatching(/^sign_in:[A-Za-z0-9_-]{43}$/), count: 1 }]);
      expect(JSON.stringify(rows)).not.toContain("203.0.113");
    });
  });

  describe("wrong API keys", () => {
    test("the 21st request with an unknown key from one address within a minute answers 429 with Retry-After, naming no key", async () => {
      const keys = await times(FAILED_KEYS_PER_MINUTE + 1, () => Promise.resolve(unknownKey()));
      const answers = await times(FAILED_KEYS_PER_MINUTE, (i) => me(keys[i], "203.0.113.7", i % 2 === 0 ? first : second));
      expect(answers.map((a) => a.status)).toEqual(Array(FAILED_KEYS_PER_MINUTE).fill(401));

      const refused = await me(keys[FAILED_KEYS_PER_MINUTE], "203.0.113.7");

      expectRateLimited(refused, "50");
      for (const key of keys) expect(refused.text).not.toContain(key.slice(4, 14));
    });

    test("a malformed Authorization header counts as a failed key too", async () => {
      await times(FAILED_KEYS_PER_MINUTE, () => send(`${first.url}/api/me`, { authorization: "Basic abc", "x-forwarded-for": "203.0.113.7" }));

      expectRateLimited(await send(`${first.url}/api/me`, { authorization: "Basic abc", "x-forwarded-for": "203.0.113.7" }), "50");
    });

    test("a valid key keeps working while an address is limited, from another address and from that one, and writes no count", async () => {
      await seedSignedInUser(first.deps, ALICE);
      const { key } = await first.deps.services.apiKeys.create("platform");
      await times(FAILED_KEYS_PER_MINUTE + 1, () => me(unknownKey(), "203.0.113.7"));
      const counts = await db()("rate_limits").select("bucket", "count");

      expect((await me(key, "198.51.100.20")).status).toBe(200);
      expect((await me(key, "203.0.113.7", second)).status).toBe(200);
      expect(await db()("rate_limits").select("bucket", "count")).toEqual(counts);
    });

    test("failed keys and sign-in starts are counted apart", async () => {
      await times(FAILED_KEYS_PER_MINUTE + 1, () => me(unknownKey(), "203.0.113.7"));

      expect((await login("203.0.113.7")).status).toBe(302);
    });
  });
});
