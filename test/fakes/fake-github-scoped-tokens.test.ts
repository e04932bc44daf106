import { TEST_APP_ID } from "../helpers/config";
import { FakeGithub, startFakeGithub } from "./fake-github";
import { installationApiRoutes } from "./github-installation-api";

// The fake honours repository_ids and permissions on a mint as GitHub does: only narrower, and a
// token limited to some repositories reaches no other.

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const appJwt = () => `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({ iss: TEST_APP_ID, iat: 0, exp: 600 })}.c2lnbmF0dXJl`;

describe("the fake GitHub's down-scoped installation tokens", () => {
  let github: FakeGithub;
  let installationId: number;
  let widgets: number;

  beforeAll(async () => {
    github = await startFakeGithub();
    github.addRoutes(installationApiRoutes(github));
  });
  beforeEach(() => {
    github.reset();
    const acme = github.world.addOrg({ id: 9001, login: "acme" });
    installationId = github.world.install(acme).id;
    widgets = github.world.addRepository(acme, { name: "widgets" }).id;
    github.world.addRepository(acme, { name: "gadgets" });
  });
  afterAll(() => github?.close());

  async function mint(body: unknown) {
    const res = await fetch(`${github.apiUrl}/app/installations/${installationId}/access_tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${appJwt()}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { token: string; permissions: unknown; repositories?: Array<{ full_name: string }> } };
  }
  const repoStatus = async (token: string, repo: string) => (await fetch(`${github.apiUrl}/repos/acme/${repo}`, { headers: { authorization: `token ${token}` } })).status;

  test("limited to one repository and contents:read: answers them, and the token reaches that repository only", async () => {
    const res = await mint({ repository_ids: [widgets], permissions: { contents: "read" } });
    expect(res.status).toBe(201);
    expect(res.body.permissions).toEqual({ contents: "read" });
    expect(res.body.repositories?.map((r) => r.full_name)).toEqual(["acme/widgets"]);
    expect(await repoStatus(res.body.token, "widgets")).toBe(200);
    expect(await repoStatus(res.body.token, "gadgets")).toBe(404);
  });

  test("an unlimited token reaches every repository of the installation", async () => {
    const res = await mint({});
    expect(await repoStatus(res.body.token, "gadgets")).toBe(200);
  });

  test("a repository outside the installation, more than 500, or permissions above the installation's: 422", async () => {
    expect((await mint({ repository_ids: [widgets, 123456789] })).status).toBe(422);
    expect((await mint({ repository_ids: Array.from({ length: 501 }, (_, i) => widgets + i) })).status).toBe(422);
    expect((await mint({ permissions: { issues: "read" } })).status).toBe(422);
    expect((await mint({ permissions: { members: "write" } })).status).toBe(422);
  });
});
