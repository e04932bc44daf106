import { TEST_APP_ID } from "../helpers/config";
import { FakeGithub, startFakeGithub } from "./fake-github";
import { installationApiRoutes } from "./github-installation-api";

// The fake mints installation tokens as GitHub does since 2026-04, so every test through it meets
// the long format; X-GitHub-Stateless-S2S-Token forces either one, with GitHub's values.

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** An app JWT in shape (the fake checks no signature). */
const appJwt = () => `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({ iss: TEST_APP_ID, iat: 0, exp: 600 })}.c2lnbmF0dXJl`;

const STATELESS = new RegExp(`^ghs_${TEST_APP_ID}_eyJ[A-Za-z0-9_-]+\\.eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`);
const CLASSIC = /^ghs_[A-Za-z0-9]{36}$/;

describe("the fake GitHub's installation tokens", () => {
  let github: FakeGithub;
  let installationId: number;

  beforeAll(async () => {
    github = await startFakeGithub();
    github.addRoutes(installationApiRoutes(github));
  });
  beforeEach(() => {
    github.reset();
    installationId = github.world.install(github.world.addOrg({ id: 9001, login: "acme" })).id;
  });
  afterAll(() => github?.close());

  async function mint(header?: string): Promise<string> {
    const res = await fetch(`${github.apiUrl}/app/installations/${installationId}/access_tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${appJwt()}`, ...(header === undefined ? {} : { "x-github-stateless-s2s-token": header }) },
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { token: string }).token;
  }

  const reaches = async (token: string) =>
    (await fetch(`${github.apiUrl}/installation/repositories`, { headers: { authorization: `token ${token}` } })).status;

  test.each([
    ["no X-GitHub-Stateless-S2S-Token (the rollout has reached this app)", undefined],
    ["X-GitHub-Stateless-S2S-Token: enabled", "enabled"],
    ["X-GitHub-Stateless-S2S-Token: true (a value GitHub ignores)", "true"],
    ["X-GitHub-Stateless-S2S-Token: false (a value GitHub ignores)", "false"],
  ])("with %s are ghs_<app id>_<JWT>, about 520 characters, and work", async (_case, header) => {
    const token = await mint(header);
    expect(token).toMatch(STATELESS);
    expect(token.length).toBeGreaterThanOrEqual(500);
    expect(await reaches(token)).toBe(200);
  });

  test("with X-GitHub-Stateless-S2S-Token: disabled are classic (ghs_ and 36 characters), and work", async () => {
    const token = await mint("disabled");
    expect(token).toMatch(CLASSIC);
    expect(await reaches(token)).toBe(200);
  });

  test("sent as bearer, a new-format token does not pass for the app's JWT", async () => {
    const token = await mint();
    const res = await fetch(`${github.apiUrl}/app/installations/${installationId}/access_tokens`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
  });
});
