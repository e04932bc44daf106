import { brotliCompressSync, gzipSync } from "node:zlib";
import { COMMIT_BODY_LIMIT } from "../../src/http/repositories-router";
import { MAX_BYTES, MAX_FILES, MAX_PATH_LENGTH } from "../../src/services/github-access/commit-files";
import { request } from "../helpers/browser";
import { recordUnexpectedGithubCalls, UnexpectedGithubCalls } from "../helpers/github-app";
import { expectError, writeCounts } from "../helpers/http-expect";
import { openRequest, RawAnswer, within } from "../helpers/open-request";
import { ACME, installationIds, SignedInMember, signedInMember, teamWithInstallation } from "../helpers/team-access";
import { describeEachServer } from "../helpers/test-server";
import { ALICE, BOB } from "../helpers/users";

const MB = 1024 * 1024;
// Long enough for a server that reads the body first to show it is waiting; short next to the test timeout.
const PATIENCE_MS = 3000;

/** The first kilobyte of a gzip body that inflates to 65 MB of a commit, as in the review (158 KB on the wire). */
function zipBombStart(): Buffer {
  const json = `{"branch":"main","message":"m","files":[{"path":"a.txt","content":"${"A".repeat(8 * MB)}`;
  return gzipSync(json).subarray(0, 1024);
}

const expectAnswer = (answer: RawAnswer | "pending", status: number, code: string) =>
  expect(answer === "pending" ? "no answer while the body was still arriving" : { status: answer.status, body: answer.body }).toEqual({
    status,
    body: { error: expect.objectContaining({ code, message: expect.any(String) }) },
  });

describeEachServer("request bodies", ({ server, db }) => {
  const nextInstallationId = installationIds(73001);
  let github: UnexpectedGithubCalls;
  beforeEach(() => {
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => github.stop());

  /** Team with acme's installation, Alice its member, Bob signed in but in no team. */
  async function arrange() {
    const { teamId } = await teamWithInstallation(server().deps, nextInstallationId(), ACME);
    const alice = await signedInMember(server().deps, ALICE, teamId);
    const bob = await signedInMember(server().deps, BOB, null);
    return { teamId, alice, bob, commits: `/api/teams/${teamId}/repositories/acme/widgets/commits` };
  }

  const open = (member: SignedInMember, path: string, headers: Record<string, string>, first?: Buffer | string) =>
    // As a browser on this site would send it: the cross-site check answers before anything else.
    openRequest(server().url, "POST", path, { "content-type": "application/json", cookie: member.cookie, "sec-fetch-site": "same-origin", ...headers }, first);

  describe("POST /api/teams/:teamId/repositories/:owner/:repo/commits", () => {
    test.each<[string, Record<string, string>, () => Buffer | string]>([
      ["a gzip body announced at 158 KB (65 MB inflated)", { "content-encoding": "gzip", "content-length": String(158 * 1024) }, zipBombStart],
      ["a 70 MB body", { "content-length": String(70 * MB) }, () => '{"branch":"main","message":"m","files":[{"path":"a","content":"'],
      ["a chunked body that never ends", {}, () => '{"branch":"main","message":"m","files":['],
    ])("from someone outside the team, %s is answered 404 before the body is read", async (_name, headers, first) => {
      const { bob, commits } = await arrange();
      const sent = open(bob, commits, headers, first());
      try {
        expectAnswer(await within(sent.answer, PATIENCE_MS), 404, "not_found");
      } finally {
        sent.close();
      }
      expect(github.calls).toEqual([]);
    });

    test("from a member, to a repository no installation of the team reaches, is answered 404 before a 70 MB body is read", async () => {
      const { alice, teamId } = await arrange();
      const sent = open(alice, `/api/teams/${teamId}/repositories/initech/widgets/commits`, { "content-length": String(70 * MB) }, "{");
      try {
        expectAnswer(await within(sent.answer, PATIENCE_MS), 404, "not_found");
      } finally {
        sent.close();
      }
    });

    test("from a member, a body announced over the commit limit is answered 413 payload_too_large before it is read", async () => {
      const { alice, commits } = await arrange();
      const sent = open(alice, commits, { "content-length": String(COMMIT_BODY_LIMIT + 1) }, "{");
      try {
        expectAnswer(await within(sent.answer, PATIENCE_MS), 413, "payload_too_large");
      } finally {
        sent.close();
      }
    });

    test("from a member, gzip is refused with 415 unsupported_media_type before anything is inflated", async () => {
      const { alice, commits } = await arrange();
      const sent = open(alice, commits, { "content-encoding": "gzip", "content-length": String(158 * 1024) }, zipBombStart());
      try {
        expectAnswer(await within(sent.answer, PATIENCE_MS), 415, "unsupported_media_type");
      } finally {
        sent.close();
      }
    });

    test("a commit as large as the file limits allow (1000 files, 50 MB base64, 4096-character paths) is read and judged, not refused as too large", async () => {
      const { alice, commits } = await arrange();
      const content = Buffer.alloc(Math.floor(MAX_BYTES / MAX_FILES), 7).toString("base64");
      const files = Array.from({ length: MAX_FILES }, (_, i) => ({ path: `${i}/`.padEnd(MAX_PATH_LENGTH, "x"), content, encoding: "base64" }));
      // Everything within the limits but the branch name: the answer shows the body was read and validated.
      const body = JSON.stringify({ branch: "..", message: "The largest commit", files });
      expect(body.length).toBeGreaterThan(70 * MB);
      expect(body.length).toBeLessThanOrEqual(COMMIT_BODY_LIMIT);
      const res = await request(`${server().url}${commits}`, { method: "POST", headers: { "content-type": "application/json" }, body, cookie: alice.cookie });
      expectError(res, 400, "invalid_input");
      expect((res.body as { error: { details: Array<{ path: string }> } }).error.details.map((d) => d.path)).toEqual(["branch"]);
      expect(github.calls).toEqual([]);
    }, 60_000);
  });

  describe("JSON routes", () => {
    const post = (member: SignedInMember, path: string, body: Buffer | string, headers: Record<string, string>) =>
      request(`${server().url}${path}`, { method: "POST", headers, body, cookie: member.cookie });

    test.each<[string, string, () => Buffer]>([
      ["gzip", "gzip", () => Buffer.from("this is not gzip at all")],
      ["br", "br", () => Buffer.from([0xff, 0xff, 0xff, 0x00, 0x13, 0x37])],
      ["deflate", "deflate", () => Buffer.from("neither is this deflate")],
      ["gzip, well formed", "gzip", () => gzipSync(JSON.stringify({ name: "Team Z" }))],
      ["br, well formed", "br", () => brotliCompressSync(JSON.stringify({ name: "Team Z" }))],
    ])("POST /api/teams with Content-Encoding %s answers 415 unsupported_media_type with the error shape (never 500) and writes nothing", async (_name, encoding, body) => {
      const { alice } = await arrange();
      const before = await writeCounts(db());
      const res = await post(alice, "/api/teams", body(), { "content-type": "application/json", "content-encoding": encoding });
      expectError(res, 415, "unsupported_media_type");
      expect((res.body as { error: { message: string } }).error.message).toMatch(/Content-Encoding/);
      expect(await writeCounts(db())).toEqual(before);
    });

    test("PUT /api/teams/:teamId/members/:githubUserId with a gzip body answers 415, not 500", async () => {
      const { alice, teamId } = await arrange();
      const res = await request(`${server().url}/api/teams/${teamId}/members/${BOB.id}`, {
        method: "PUT",
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
        body: Buffer.from("garbage"),
        cookie: alice.cookie,
      });
      expectError(res, 415, "unsupported_media_type");
    });

    test.each([
      ['{"name": x}', 'unexpected "x" at position 9 (line 1, column 10)'],
      ['{\n  "name": "Team B",\n}', 'unexpected "}" at position 22 (line 3, column 1)'],
      ['{"name": "Team B"', "it ends at position 17 (line 1, column 18) before the JSON is complete"],
    ])("POST /api/teams with the malformed JSON %j answers 400 invalid_input saying where it breaks", async (raw, where) => {
      const { alice } = await arrange();
      const before = await writeCounts(db());
      const res = await post(alice, "/api/teams", raw, { "content-type": "application/json" });
      expectError(res, 400, "invalid_input");
      const { message, details } = (res.body as { error: { message: string; details: unknown } }).error;
      expect(message).toBe(`The request body is not valid JSON: ${where}`);
      expect(details).toEqual([{ path: "", message }]);
      expect(await writeCounts(db())).toEqual(before);
    });

    test.each([
      ["Content-Type text/plain", { "content-type": "text/plain" }],
      ["Content-Type application/x-www-form-urlencoded", { "content-type": "application/x-www-form-urlencoded" }],
      ["no Content-Type", {}],
    ])("POST /api/teams with a JSON body and %s answers 415 unsupported_media_type naming the type it wants", async (_name, headers) => {
      const { alice } = await arrange();
      const before = await writeCounts(db());
      // As bytes: fetch would label a string text/plain itself.
      const res = await post(alice, "/api/teams", Buffer.from(JSON.stringify({ name: "Team B" })), headers);
      expectError(res, 415, "unsupported_media_type");
      expect((res.body as { error: { message: string } }).error.message).toMatch(/^Content-Type must be application\/json/);
      expect(await writeCounts(db())).toEqual(before);
    });

    test("POST /api/teams with application/json; charset=utf-8 is read as JSON", async () => {
      const { alice } = await arrange();
      const res = await post(alice, "/api/teams", JSON.stringify({ name: "Team C" }), { "content-type": "application/json; charset=utf-8" });
      expect(res.status).toBe(201);
    });
  });
});
