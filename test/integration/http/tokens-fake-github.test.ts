import { installationApiRoutes, tokenMints } from "../../fakes/github-installation-api";
import { describeEachE2E } from "../../helpers/e2e";
import { BOB } from "../../helpers/users";

// Through the fake GitHub: the token GitHub hands out reaches the asked repository and no other.
let nextE2eInstallationId = 83501;
describeEachE2E("POST /api/teams/:teamId/tokens against the fake GitHub", ({ e2e }) => {
  beforeAll(() => e2e().github.addRoutes(installationApiRoutes(e2e().github)));

  test("a team scoped to one repository gets a token that works on it and not on another repository of the installation", async () => {
    const { github } = e2e();
    const acme = github.world.addOrg({ id: 9001, login: "acme" });
    github.world.setMembership(acme, BOB, "admin");
    const acmeId = github.world.install(acme, { id: nextE2eInstallationId++ }).id;
    const widgets = github.world.addRepository(acme, { name: "widgets" });
    github.world.addRepository(acme, { name: "gadgets" });
    const bob = await e2e().signIn(BOB);
    const call = (method: string, path: string, body?: unknown) => bob.json(method, e2e().url(path), body);
    const teamId = ((await call("POST", "/api/teams", { name: "Widgets" })).body as { id: number }).id;
    expect((await call("POST", `/api/teams/${teamId}/installations`, { installationId: acmeId, repositories: [widgets.id] })).status).toBe(201);
    const mintsBefore = tokenMints(github, acmeId);

    const refused = await call("POST", `/api/teams/${teamId}/tokens`, { repositories: ["acme/gadgets"] });
    expect(refused.status).toBe(403);
    expect(tokenMints(github, acmeId)).toBe(mintsBefore);

    const issued = await call("POST", `/api/teams/${teamId}/tokens`, { repositories: ["acme/widgets"], permissions: { contents: "read" } });
    expect(issued.status).toBe(201);
    const { token } = issued.body as { token: string };
    const reach = async (repo: string) => (await fetch(`${github.apiUrl}/repos/acme/${repo}`, { headers: { authorization: `token ${token}` } })).status;
    expect(await reach("widgets")).toBe(200);
    expect(await reach("gadgets")).toBe(404);
  });
});
