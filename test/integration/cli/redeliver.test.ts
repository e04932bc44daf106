import { createPublicKey, verify } from "node:crypto";
import nock from "nock";
import { readJobState } from "../../../src/repositories/job-state";
import { recordDelivery } from "../../../src/repositories/webhook-deliveries";
import { testPrivateKey } from "../../fixtures/keys";
import { useMigratedCliTarget } from "../../helpers/cli";
import { TEST_APP_ID } from "../../helpers/config";
import { databaseKinds } from "../../helpers/databases";
import { delivery, NOW } from "../../helpers/factories";

const API = "https://api.github.com";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The app's JWT, signed with the app's key and issued for the app's id: what GitHub checks. */
function isAppJwt(authorization: string): boolean {
  const match = /^bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/i.exec(authorization);
  if (!match) return false;
  const [, header, payload, signature] = match;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { iss?: unknown };
  const signed = verify("RSA-SHA256", Buffer.from(`${header}.${payload}`), createPublicKey(testPrivateKey()), Buffer.from(signature, "base64url"));
  return signed && String(claims.iss) === String(TEST_APP_ID);
}

interface Attempt {
  id: number;
  guid: string;
  ago: number;
  statusCode: number;
  redelivery?: boolean;
}

/** One attempt as `GET /app/hook/deliveries` lists it, delivered `ago` ms before the real now. */
function hookDelivery(a: Attempt) {
  return {
    id: a.id,
    guid: a.guid,
    delivered_at: new Date(Date.now() - a.ago).toISOString().replace(/\.\d{3}Z$/, "Z"),
    redelivery: a.redelivery ?? false,
    duration: 0.12,
    status: a.statusCode === 0 ? "timed out" : a.statusCode < 300 ? "OK" : `Invalid HTTP Response: ${a.statusCode}`,
    status_code: a.statusCode,
    event: "installation",
    action: "created",
    installation_id: 77,
    repository_id: null,
    throttled_at: null,
  };
}

/**
 * Newest first, over three cursor-linked pages. Each page knows whether it is fetched; the
 * redelivery guids are noted beside them.
 */
const PAGES: Attempt[][] = [
  [
    { id: 112, guid: "g-retry-ok", ago: 5 * MINUTE, statusCode: 200, redelivery: true }, // older attempt (111) failed, this one succeeded
    { id: 110, guid: "g-fail-1", ago: 10 * MINUTE, statusCode: 500 }, // → redeliver
    { id: 109, guid: "g-ok-1", ago: 20 * MINUTE, statusCode: 200 },
    { id: 108, guid: "g-processed-1", ago: 30 * MINUTE, statusCode: 502 }, // GitHub gave up waiting, Octoplex applied it
  ],
  [
    { id: 111, guid: "g-retry-ok", ago: 45 * MINUTE, statusCode: 500 },
    { id: 107, guid: "g-fail-2", ago: 60 * MINUTE, statusCode: 0 }, // timed out → redeliver
    { id: 106, guid: "g-ok-2", ago: 100 * MINUTE, statusCode: 200 },
    { id: 105, guid: "g-fail-3", ago: 150 * MINUTE, statusCode: 503 }, // → redeliver, unless --since 2h
  ],
  [
    { id: 104, guid: "g-fail-4", ago: 4 * HOUR, statusCode: 500 }, // → redeliver
    { id: 103, guid: "g-processed-2", ago: 10 * HOUR, statusCode: 500 },
    { id: 102, guid: "g-ok-3", ago: 30 * HOUR, statusCode: 200 },
    { id: 101, guid: "g-fail-5", ago: 60 * HOUR, statusCode: 404 }, // → redeliver
    { id: 100, guid: "g-too-old", ago: 80 * HOUR, statusCode: 500 }, // past GitHub's 3 days: never asked
  ],
];

const CURSORS = ["", "v1_c2", "v1_c3"];

/** The first `count` pages of PAGES, answered once each; page n+1 is linked from page n by cursor. */
function githubListsDeliveries(count: number): nock.Scope {
  const scope = nock(API).matchHeader("authorization", isAppJwt);
  for (let index = 0; index < count; index++) {
    const query = index === 0 ? { per_page: "100" } : { per_page: "100", cursor: CURSORS[index] };
    const headers: Record<string, string> =
      index < PAGES.length - 1 ? { link: `<${API}/app/hook/deliveries?per_page=100&cursor=${CURSORS[index + 1]}>; rel="next"` } : {};
    scope.get("/app/hook/deliveries").query(query).reply(200, PAGES[index].map(hookDelivery), headers);
  }
  return scope;
}

/** `POST /app/hook/deliveries/{id}/attempts` for exactly these ids, once each. */
function githubAcceptsRedeliveries(ids: number[]): nock.Scope {
  const scope = nock(API).matchHeader("authorization", isAppJwt);
  for (const id of ids) scope.post(`/app/hook/deliveries/${id}/attempts`).reply(202, {});
  return scope;
}

describe.each(databaseKinds())("octoplex redeliver on %s", (kind) => {
  const cli = useMigratedCliTarget(kind);
  const db = () => cli().db;
  beforeEach(async () => {
    // Deliveries Octoplex applied although GitHub recorded a failure (e.g. the answer came too late).
    await recordDelivery(db(), delivery("g-processed-1"), NOW);
    await recordDelivery(db(), delivery("g-processed-2"), NOW);
  });

  test("asks GitHub again for exactly the failed deliveries never processed, across three cursor pages; a second run asks for none", async () => {
    const listing = githubListsDeliveries(3);
    const redeliveries = githubAcceptsRedeliveries([110, 107, 105, 104, 101]);

    const run = await cli().run(["redeliver"]);

    expect(run.err).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual([
      "redelivered  g-fail-1 installation.created",
      "redelivered  g-fail-2 installation.created",
      "redelivered  g-fail-3 installation.created",
      "redelivered  g-fail-4 installation.created",
      "redelivered  g-fail-5 installation.created",
      "5 redelivery request(s); scanned 12 deliveries, 7 failed (2 processed since, 0 already requested)",
    ]);
    expect(listing.isDone()).toBe(true);
    expect(redeliveries.isDone()).toBe(true);
    const state = await readJobState<{ newestSeen?: string; requested: Record<string, string> }>(db(), "redeliver", { requested: {} });
    expect(Object.keys(state.requested).sort()).toEqual(["g-fail-1", "g-fail-2", "g-fail-3", "g-fail-4", "g-fail-5"]);
    // The newest delivery listed: where the next run starts from.
    expect(Math.abs(Date.parse(state.newestSeen!) - (Date.now() - 5 * MINUTE))).toBeLessThan(10_000);

    // From where the first run stopped (less an hour of overlap): pages 1 and 2 only. A request
    // for page 3 or any POST …/attempts reaches no interceptor and fails the command.
    const again = githubListsDeliveries(2);
    const second = await cli().run(["redeliver"]);

    expect(second.err).toEqual([]);
    expect(second.exitCode).toBe(0);
    expect(second.out).toEqual(["0 redelivery request(s); scanned 6 deliveries, 3 failed (1 processed since, 2 already requested)"]);
    expect(again.isDone()).toBe(true);
  });

  test("--since 2h scans back two hours only: page 3 is never fetched, older failures are not asked for", async () => {
    const listing = githubListsDeliveries(2);
    const redeliveries = githubAcceptsRedeliveries([110, 107]);

    const run = await cli().run(["redeliver", "--since", "2h"]);

    expect(run.err).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual([
      "redelivered  g-fail-1 installation.created",
      "redelivered  g-fail-2 installation.created",
      "2 redelivery request(s); scanned 7 deliveries, 3 failed (1 processed since, 0 already requested)",
    ]);
    expect(listing.isDone()).toBe(true);
    expect(redeliveries.isDone()).toBe(true);
  });

  test("a GitHub 500 while redelivering fails the command with a message; the next run asks again", async () => {
    nock(API).matchHeader("authorization", isAppJwt).get("/app/hook/deliveries").query({ per_page: "100" }).reply(200, [hookDelivery({ id: 7, guid: "g-x", ago: MINUTE, statusCode: 500 })]);
    nock(API).matchHeader("authorization", isAppJwt).post("/app/hook/deliveries/7/attempts").reply(500, { message: "Server Error" });

    const run = await cli().run(["redeliver"]);

    expect(run.exitCode).toBe(1);
    expect(run.err).toEqual([expect.stringMatching(/^octoplex: GitHub did not answer \(HTTP 500\)/)]);

    nock(API).matchHeader("authorization", isAppJwt).get("/app/hook/deliveries").query({ per_page: "100" }).reply(200, [hookDelivery({ id: 7, guid: "g-x", ago: MINUTE, statusCode: 500 })]);
    const retried = githubAcceptsRedeliveries([7]);
    const again = await cli().run(["redeliver"]);
    expect(again.out).toEqual(["redelivered  g-x installation.created", "1 redelivery request(s); scanned 1 deliveries, 1 failed (0 processed since, 0 already requested)"]);
    expect(retried.isDone()).toBe(true);
  });

  test("a DNS failure says GitHub could not be reached, not that it answered HTTP 500", async () => {
    const scope = nock(API)
      .get("/app/hook/deliveries")
      .query(true)
      .replyWithError(Object.assign(new Error("getaddrinfo ENOTFOUND api.github.com"), { code: "ENOTFOUND" }));

    const run = await cli().run(["redeliver"]);

    expect(run.exitCode).toBe(1);
    expect(run.err).toEqual([expect.stringMatching(/^octoplex: Could not reach GitHub \(.*ENOTFOUND.*\); try again shortly$/)]);
    expect(scope.isDone()).toBe(true);
  });

  test.each([["2 hours"], ["-1h"], ["5w"], ["h"]])("--since %s is a usage error that asks GitHub nothing", async (since) => {
    const run = await cli().run(["redeliver", "--since", since]);

    expect(run.exitCode).toBe(1);
    expect(run.err.join("\n")).toContain(`expected a duration such as 30m, 6h or 2d, got "${since}"`);
  });
});
