import nock from "nock";
import { newInstallationToken } from "../fixtures/tokens";
import { request } from "../helpers/browser";
import { useMigratedCliTarget } from "../helpers/cli";
import { databaseKinds } from "../helpers/databases";
import { nockInstallationToken, tokenHeader } from "../helpers/github-app";
import { GITHUB_API } from "../helpers/github-oauth";
import { expectError } from "../helpers/http-expect";
import { recordingLogger } from "../helpers/recording-logger";
import { findSecrets } from "../helpers/secret-patterns";
import { installationIds, signedInMember, teamWithInstallation } from "../helpers/team-access";
import { describeEachServer } from "../helpers/test-server";
import { ALICE } from "../helpers/users";

// Since 2026-04 GitHub mints installation tokens as ghs_<app id>_<JWT> (about 520 characters, two
// dots). A redaction that stops at the first dot leaves the JWT's payload and signature behind.

const ACME = { id: 9001, login: "acme", type: "Organization", avatarUrl: null };

/** What of `token` shows in `text`: the token itself, or any of its parts (app id aside) such as the JWT's payload or signature. */
function piecesOf(token: string, text: string): string[] {
  return [token, ...token.slice("ghs_".length).split(/[._]/).filter((part) => part.length > 12)].filter((piece) => text.includes(piece));
}

const recorder = recordingLogger();

describeEachServer(
  "a new-format installation token GitHub quotes in an error",
  ({ server }) => {
    const nextInstallationId = installationIds(77001);

    beforeEach(() => recorder.clear());

    /** Alice creates acme/widgets through the running app; GitHub answers `status` with a message quoting the installation's token. */
    async function createRepositoryAnswered(status: number, message: (token: string) => string) {
      const installationId = nextInstallationId();
      const { teamId } = await teamWithInstallation(server().deps, installationId, ACME);
      const alice = await signedInMember(server().deps, ALICE, teamId);
      const mint = nockInstallationToken(installationId);
      const github = nock(GITHUB_API)
        .post("/orgs/acme/repos")
        .matchHeader("authorization", tokenHeader(mint.token))
        .reply(status, { message: message(mint.token), documentation_url: "https://docs.github.com/rest" });
      const res = await request(`${server().url}/api/teams/${teamId}/repositories`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ installationId, name: "widgets" }),
        cookie: alice.cookie,
      });
      expect(mint.scope.isDone()).toBe(true);
      expect(github.isDone()).toBe(true);
      return { res, token: mint.token, log: recorder.entries().map((e) => JSON.stringify(e)).join("\n") };
    }

    test("a refusal no rule explains (400) is logged with the whole token redacted, and the answer quotes none of it", async () => {
      const { res, token, log } = await createRepositoryAnswered(400, (t) => `Bad request: the token ${t} is not allowed here`);

      expectError(res, 502, "github_unavailable");
      expect(token.length).toBeGreaterThan(500);
      // The app did log GitHub's words: a scan of nothing would prove nothing.
      expect(log).toContain("GitHub refused a call");
      expect(log).toContain("the token ghs_[redacted] is not allowed here");
      expect(piecesOf(token, log)).toEqual([]);
      expect(findSecrets(log)).toEqual([]);
      expect(piecesOf(token, JSON.stringify(res.body))).toEqual([]);
    });

    test("a refusal the answer passes on (422) shows GitHub's words with the whole token redacted", async () => {
      const { res, token, log } = await createRepositoryAnswered(422, (t) => `Validation Failed: ${t} may not create repositories`);

      expectError(res, 400, "invalid_input");
      expect((res.body as { error: { message: string } }).error.message).toContain("Validation Failed: ghs_[redacted] may not create repositories");
      expect(piecesOf(token, JSON.stringify(res.body))).toEqual([]);
      expect(piecesOf(token, log)).toEqual([]);
      expect(findSecrets(log)).toEqual([]);
    });
  },
  { overrides: { log: recorder.log } },
);

describe.each(databaseKinds())("octoplex on %s, when GitHub's error quotes a new-format installation token", (kind) => {
  const cli = useMigratedCliTarget(kind);

  test("prints the failure with the whole token redacted", async () => {
    const token = newInstallationToken();
    const github = nock(GITHUB_API)
      .get("/app/installations")
      .query({ per_page: "100" })
      .reply(500, { message: `Server Error while checking ${token}` });

    const run = await cli().run(["reconcile"]);

    expect(run.exitCode).toBe(1);
    expect(github.isDone()).toBe(true);
    expect(run.err).toEqual(["octoplex: listing the app's installations on GitHub failed on page 1 (HTTP 500): Server Error while checking ghs_[redacted]"]);
    expect(piecesOf(token, run.err.join("\n"))).toEqual([]);
  });
});
