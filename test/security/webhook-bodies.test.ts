import { createHmac, randomUUID } from "node:crypto";
import { migrateLatest } from "../../src/db/migrate";
import { createDeps, Deps } from "../../src/deps";
import { createLambdaApp, LambdaApp } from "../../src/lambda/lambda-app";
import { apiGatewayV2Event, jsonBody, lambdaContext, LambdaHttpResult, webhookRequest } from "../fixtures/lambda-events";
import { installationEvent } from "../fixtures/payloads";
import { testConfig, TEST_WEBHOOK_SECRET } from "../helpers/config";
import { createTestDatabase, databaseKinds, TestDatabase, truncateAll } from "../helpers/databases";
import { countRows } from "../helpers/factories";
import { captureLogger } from "../helpers/log-capture";
import { openRequest, RawAnswer, within } from "../helpers/open-request";
import { TestOctokit } from "../helpers/test-octokit";
import { describeEachServer, sign } from "../helpers/test-server";

const MB = 1024 * 1024;
// Long enough for a server that reads the body first to show it is waiting; short next to the test timeout.
const PATIENCE_MS = 3000;
const WEBHOOKS = "/api/github/webhooks";

const sha1Of = (body: string) => `sha1=${createHmac("sha1", TEST_WEBHOOK_SECRET).update(body).digest("hex")}`;
/** Well formed, and wrong for any body: reading the body is the only way to find out. */
const WRONG_SHA256 = `sha256=${"ab".repeat(32)}`;

const headersOf = (signature: string | null, extra: Record<string, string> = {}) => ({
  "content-type": "application/json",
  "x-github-event": "installation",
  "x-github-delivery": randomUUID(),
  ...(signature === null ? {} : { "x-hub-signature-256": signature }),
  ...extra,
});

const expectAnswer = (answer: RawAnswer | "pending", status: number, code: string) =>
  expect(answer === "pending" ? "no answer while the body was still arriving" : { status: answer.status, body: answer.body }).toEqual({
    status,
    body: { error: expect.objectContaining({ code, message: expect.any(String) }) },
  });

describeEachServer("webhook bodies", ({ server, db }) => {
  const stored = async () => ({ installations: await countRows(db(), "installations"), deliveries: await countRows(db(), "webhook_deliveries") });
  /** A 24 MB delivery of which only the first kilobyte is sent (for now). */
  const large = (signature: string | null) => openRequest(server().url, "POST", WEBHOOKS, headersOf(signature, { "content-length": String(24 * MB) }), `{"action":"created","padding":"${"x".repeat(1000)}`);

  test("twelve unsigned 24 MB deliveries at once are each answered 401 before their bodies are read", async () => {
    const sent = Array.from({ length: 12 }, () => large(null));
    try {
      const answers = await Promise.all(sent.map((s) => within(s.answer, PATIENCE_MS)));
      for (const answer of answers) expectAnswer(answer, 401, "unauthenticated");
    } finally {
      for (const s of sent) s.close();
    }
    expect(await stored()).toEqual({ installations: 0, deliveries: 0 });
  });

  test.each([
    ["sha1= and a SHA-1 digest", `sha1=${"ab".repeat(20)}`],
    ["sha512= and a SHA-512 digest", `sha512=${"ab".repeat(64)}`],
    ["sha256= and 63 hex digits", `sha256=${"a".repeat(63)}`],
    ["sha256= and 64 digits, not all hex", `sha256=${"g".repeat(64)}`],
    ["a bare digest without sha256=", "ab".repeat(32)],
  ])("a 24 MB delivery whose X-Hub-Signature-256 is %s is answered 401 before its body is read", async (_name, signature) => {
    const sent = large(signature);
    try {
      expectAnswer(await within(sent.answer, PATIENCE_MS), 401, "unauthenticated");
    } finally {
      sent.close();
    }
  });

  test("X-Hub-Signature-256 carrying the body's correct HMAC-SHA1 (sha1=…) is refused with 401 and stores nothing", async () => {
    const body = JSON.stringify(installationEvent("created", { id: 8101 }));
    const res = await fetch(`${server().url}${WEBHOOKS}`, { method: "POST", headers: headersOf(sha1Of(body)), body });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 401, body: { error: expect.objectContaining({ code: "unauthenticated" }) } });
    expect(await stored()).toEqual({ installations: 0, deliveries: 0 });
  });

  test("unverified bytes held at once stay within the budget: with two 24 MB bodies mostly received, a third is answered 503 server_busy with Retry-After before it is read, and two are taken again once they are gone", async () => {
    const first = [large(WRONG_SHA256), large(WRONG_SHA256)];
    // All but the last kilobyte of each: held by the server, which waits for the rest.
    for (const s of first) s.write(Buffer.alloc(24 * MB - 2048, "x"));
    let busy: RawAnswer | "pending" = "pending";
    try {
      // Until the server has taken in what was sent, a third may still fit; not for long.
      for (let attempt = 0; attempt < 20 && busy === "pending"; attempt++) {
        const third = large(WRONG_SHA256);
        busy = await within(third.answer, 300);
        third.close();
      }
      expectAnswer(busy, 503, "server_busy");
      expect(busy !== "pending" && Number(busy.headers["retry-after"])).toBeGreaterThan(0);
      expect(await within(Promise.race(first.map((s) => s.answer)), 10)).toBe("pending");
    } finally {
      for (const s of first) s.close();
    }
    // The dropped requests gave their bytes back (once the server has seen them go): two fit again.
    let again: Array<RawAnswer | "pending"> = [];
    for (let attempt = 0; attempt < 20 && (attempt === 0 || !again.every((a) => a === "pending")); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const retried = [large(WRONG_SHA256), large(WRONG_SHA256)];
      for (const s of retried) s.write(Buffer.alloc(24 * MB - 2048, "x"));
      again = await Promise.all(retried.map((s) => within(s.answer, 300)));
      for (const s of retried) s.close();
    }
    expect(again).toEqual(["pending", "pending"]);
  }, 30_000);

  test("a body that stops arriving is dropped unanswered after GitHub's 10 s, giving back what it held", async () => {
    const stalled = large(WRONG_SHA256);
    stalled.write(Buffer.alloc(24 * MB - 2048, "x"));
    const started = Date.now();
    await expect(stalled.answer).rejects.toThrow("the connection closed before an answer");
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
    // Its bytes are free again: two more 24 MB bodies are taken in.
    const next = [large(WRONG_SHA256), large(WRONG_SHA256)];
    try {
      for (const s of next) s.write(Buffer.alloc(24 * MB - 2048, "x"));
      expect(await Promise.all(next.map((s) => within(s.answer, 500)))).toEqual(["pending", "pending"]);
    } finally {
      for (const s of next) s.close();
    }
  }, 30_000);

  test("a signed delivery that arrives in pieces with a Content-Length is verified and stored", async () => {
    const body = JSON.stringify(installationEvent("created", { id: 8102 }));
    const sent = openRequest(server().url, "POST", WEBHOOKS, headersOf(sign(body), { "content-length": String(Buffer.byteLength(body)) }));
    for (let at = 0; at < body.length; at += 100) {
      sent.write(body.slice(at, at + 100));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    try {
      expect(await sent.answer).toMatchObject({ status: 200, body: { ok: true } });
    } finally {
      sent.close();
    }
    expect(await stored()).toEqual({ installations: 1, deliveries: 1 });
  });

  test("a signed delivery sent chunked, without a Content-Length, is verified and stored", async () => {
    const body = JSON.stringify(installationEvent("created", { id: 8103 }));
    const sent = openRequest(server().url, "POST", WEBHOOKS, headersOf(sign(body)));
    for (let at = 0; at < body.length; at += 500) sent.write(body.slice(at, at + 500));
    sent.end();
    try {
      expect(await sent.answer).toMatchObject({ status: 200, body: { ok: true } });
    } finally {
      sent.close();
    }
    expect(await stored()).toEqual({ installations: 1, deliveries: 1 });
  });

  test("a chunked delivery with a wrong signature is read and refused with 401, and stores nothing", async () => {
    const body = JSON.stringify(installationEvent("created", { id: 8104 }));
    const sent = openRequest(server().url, "POST", WEBHOOKS, headersOf(sign(body, "not-the-webhook-secret")), body);
    sent.end();
    try {
      expectAnswer(await within(sent.answer, PATIENCE_MS), 401, "unauthenticated");
    } finally {
      sent.close();
    }
    expect(await stored()).toEqual({ installations: 0, deliveries: 0 });
  });
});

describe.each(databaseKinds())("the Lambda handler's webhook signatures on %s", (kind) => {
  let database: TestDatabase;
  let deps: Deps;
  let app: LambdaApp;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    deps = createDeps(testConfig(database.config), { Octokit: TestOctokit, log: captureLogger() });
    await migrateLatest(deps.db);
    app = createLambdaApp(deps);
  });
  beforeEach(() => truncateAll(deps.db));
  afterAll(async () => {
    await deps?.close();
    await database?.drop();
  });

  const invoke = (event: unknown) => app.handle(event, lambdaContext()) as Promise<LambdaHttpResult>;
  const stored = async () => ({ installations: await countRows(deps.db, "installations"), deliveries: await countRows(deps.db, "webhook_deliveries") });

  test.each([
    ["the body's correct HMAC-SHA1 (sha1=…)", sha1Of],
    ["sha256= and 63 hex digits", () => `sha256=${"a".repeat(63)}`],
  ])("POST /api/github/webhooks with X-Hub-Signature-256 carrying %s answers 401 and stores nothing", async (_name, signature) => {
    const request = webhookRequest("installation", installationEvent("created", { id: 8201 }));
    request.headers!["X-Hub-Signature-256"] = signature(request.body!);
    const result = await invoke(apiGatewayV2Event(request));
    expect({ status: result.statusCode, body: jsonBody(result) }).toEqual({ status: 401, body: { error: expect.objectContaining({ code: "unauthenticated" }) } });
    expect(await stored()).toEqual({ installations: 0, deliveries: 0 });
  });

  test("POST /api/github/webhooks signed with sha256= is still stored", async () => {
    const result = await invoke(apiGatewayV2Event(webhookRequest("installation", installationEvent("created", { id: 8202 }))));
    expect(result.statusCode).toBe(200);
    expect(await stored()).toEqual({ installations: 1, deliveries: 1 });
  });
});
