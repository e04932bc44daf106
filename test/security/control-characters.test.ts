import { errorCode, Hop, request } from "../helpers/browser";
import { snapshotDatabase } from "../helpers/database-snapshot";
import { recordUnexpectedGithubCalls, UnexpectedGithubCalls } from "../helpers/github-app";
import { expectError } from "../helpers/http-expect";
import { ACME, signedInMember, teamWithInstallation } from "../helpers/team-access";
import { describeEachServerWithCli } from "../helpers/test-server";
import { ALICE } from "../helpers/users";

/**
 * Control characters (C0 with NUL, DEL, C1) in free text: refused with 400 invalid_input before
 * anything is written or GitHub is asked. NUL answered 500 on Postgres; ESC sequences stored in a
 * name later rewrote the terminal of whoever listed it.
 */

const HOSTILE = {
  "a NUL": "Platform\u0000team",
  "a terminal escape sequence": "Platform\u001b[2K\r\u001b]0;owned\u0007",
  "a DEL": "Platform\u007fteam",
  "a C1 control (CSI)": "Platform\u009b2Kteam",
  "a line break": "Platform\nteam",
};
const cases = Object.entries(HOSTILE).map(([what, text]) => ({ what, text }));

describeEachServerWithCli("control characters in free text", ({ server, db, cli }) => {
  let github: UnexpectedGithubCalls;
  let cookie: string;
  let teamId: number;
  beforeEach(async () => {
    // Linked to acme's installation: a commit's body is read only once the team reaches the repository.
    ({ teamId } = await teamWithInstallation(server().deps, 74001, ACME));
    ({ cookie } = await signedInMember(server().deps, ALICE, teamId, "admin"));
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => github.stop());

  const call = (method: string, path: string, body?: unknown): Promise<Hop> =>
    request(`${server().url}${path}`, {
      method,
      headers: { cookie, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  /** The request is refused as bad input, and nothing was written nor asked of GitHub. */
  async function expectRefused(send: () => Promise<Hop>): Promise<Hop> {
    const before = await snapshotDatabase(db());
    const hop = await send();
    expectError(hop, 400, "invalid_input");
    expect(await snapshotDatabase(db())).toEqual(before);
    expect(github.calls).toEqual([]);
    return hop;
  }

  test.each(cases)("POST /api/teams with $what in the name answers 400 invalid_input and writes no team", async ({ text }) => {
    const hop = await expectRefused(() => call("POST", "/api/teams", { name: text }));
    expect((hop.body as { error: { message: string } }).error.message).toBe("Invalid body: name must not contain control characters");
  });

  test("POST /api/teams with a plain name is still created", async () => {
    expect((await call("POST", "/api/teams", { name: "Platform team ✓" })).status).toBe(201);
  });

  test.each(cases.filter((c) => c.what !== "a line break"))(
    "POST /api/teams/:teamId/repositories with $what in the description answers 400 invalid_input",
    async ({ text }) => {
      await expectRefused(() => call("POST", `/api/teams/${teamId}/repositories`, { installationId: 1, name: "widgets", description: text }));
    },
  );

  test.each(cases.filter((c) => c.what !== "a line break"))(
    "POST /api/teams/:teamId/repositories/:owner/:repo/commits with $what in the message answers 400 invalid_input",
    async ({ text }) => {
      const files = [{ path: "README.md", content: "hi" }];
      await expectRefused(() => call("POST", `/api/teams/${teamId}/repositories/acme/widgets/commits`, { branch: "main", message: text, files }));
    },
  );

  test("a commit message keeps its line breaks and tabs: not refused as bad input", async () => {
    const files = [{ path: "README.md", content: "hi" }];
    const hop = await call("POST", `/api/teams/${teamId}/repositories/acme/widgets/commits`, { branch: "main", message: "Subject\n\n\tbody", files });
    expect(errorCode(hop.body)).not.toBe("invalid_input");
  });

  test.each([
    ["a branch name", { branch: "main\u0000", message: "m", files: [{ path: "a", content: "" }] }],
    ["a file path", { branch: "main", message: "m", files: [{ path: "docs/\u001b[2Kreadme", content: "" }] }],
  ])("POST …/commits with a control character in %s answers 400 invalid_input", async (_what, body) => {
    await expectRefused(() => call("POST", `/api/teams/${teamId}/repositories/acme/widgets/commits`, body));
  });

  test("GET /api/teams/:teamId/audit with a NUL in the cursor query answers 400 invalid_input", async () => {
    await expectRefused(() => call("GET", `/api/teams/${teamId}/audit?cursor=${encodeURIComponent("abc\u0000")}`));
  });

  test.each(cases)("api-key create --name with $what fails as a usage error and stores no key", async ({ text }) => {
    const run = await cli().run(["api-key", "create", "--name", text]);

    expect(run.exitCode).toBe(1);
    expect(run.err.join("\n")).toContain("--name must not contain control characters");
    expect(Number((await db()("api_keys").count({ n: "*" }))[0].n)).toBe(0);
  });
});
