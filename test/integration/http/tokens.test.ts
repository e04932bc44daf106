import nock from "nock";
import { addInstallationRepositories } from "../../../src/repositories/installation-repositories";
import { writeScope } from "../../../src/repositories/link-scopes";
import { githubInstallationToken } from "../../fixtures/github-answers";
import { githubRepository } from "../../fixtures/github-objects";
import { newInstallationToken } from "../../fixtures/tokens";
import { isAppJwt, recordUnexpectedGithubCalls, UnexpectedGithubCalls } from "../../helpers/github-app";
import { GITHUB_API } from "../../helpers/github-oauth";
import { seedInstallation, seedLinks, seedTeams, storedRepository } from "../../helpers/factories";
import { ACME, installationIds, signedInMember, SignedInMember, teamWithInstallation } from "../../helpers/team-access";
import { describeEachServer, startTestServer } from "../../helpers/test-server";
import { ALICE, BOB } from "../../helpers/users";

const GLOBEX = { id: 9002, login: "globex", type: "Organization" as const, avatarUrl: null };
const PERMISSIONS = { contents: "write", issues: "read", metadata: "read" };

interface Mint {
  bodies: Array<Record<string, unknown>>;
  token: string;
}

/** GitHub's POST /app/installations/:id/access_tokens as the app: records what the token was limited to. */
function nockMint(installationId: number, repositories: Array<{ id: number; fullName: string }>, lifetimeMs = 3600_000): Mint {
  const mint: Mint = { bodies: [], token: newInstallationToken(undefined, installationId) };
  nock(GITHUB_API)
    .post(`/app/installations/${installationId}/access_tokens`)
    .matchHeader("authorization", isAppJwt)
    .reply(function (_uri, body) {
      const asked = body as { repository_ids?: number[]; permissions?: Record<string, string> };
      mint.bodies.push(asked);
      const covered = asked.repository_ids ? repositories.filter((r) => asked.repository_ids!.includes(r.id)) : repositories;
      return [
        201,
        {
          ...githubInstallationToken(mint.token, {
            permissions: asked.permissions ?? PERMISSIONS,
            repositorySelection: asked.repository_ids ? "selected" : "all",
            repositories: covered.map((r) => githubRepository({ id: r.id, owner: { id: 9001, login: r.fullName.split("/")[0] }, name: r.fullName.split("/")[1] })),
          }),
          expires_at: new Date(Date.now() + lifetimeMs).toISOString(),
        },
      ];
    });
  return mint;
}

describeEachServer("POST /api/teams/:teamId/tokens", ({ server }) => {
  const nextInstallationId = installationIds(83001);
  let github: UnexpectedGithubCalls;
  beforeEach(() => {
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => {
    github.stop();
    nock.cleanAll();
  });

  /** As a signed-in member, or as an API key (`{ key }`). */
  async function ask(as: SignedInMember | { key: string }, teamId: number, body: unknown, url = server().url) {
    const credentials: Record<string, string> = "key" in as ? { authorization: `Bearer ${as.key}` } : { cookie: as.cookie, "sec-fetch-site": "same-origin" };
    const res = await fetch(`${url}/api/teams/${teamId}/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", ...credentials },
      body: JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> & { error?: { code: string; details?: unknown } } };
  }

  /** acme's installation with widgets (A) and gadgets (B), linked to a team scoped to A only (or to all). */
  async function arrange(scope: "all" | "widgets" = "widgets", overrides = {}) {
    const installationId = nextInstallationId();
    const { teamId } = await teamWithInstallation(server().deps, installationId, ACME, { permissions: PERMISSIONS, ...overrides });
    const widgets = storedRepository(installationId * 10 + 1, "acme/widgets");
    const gadgets = storedRepository(installationId * 10 + 2, "acme/gadgets");
    await addInstallationRepositories(server().deps.db, installationId, [widgets, gadgets]);
    if (scope === "widgets") await writeScope(server().deps.db, teamId, installationId, [widgets.id]);
    const alice = await signedInMember(server().deps, ALICE, teamId);
    const world = [widgets, gadgets];
    return { installationId, teamId, alice, widgets, gadgets, world };
  }

  const auditRows = (teamId: number) => server().deps.db("audit_events").where({ team_id: teamId, action: "team.token.issued" }).select("data", "actor_id");

  test("a repository outside the team's scope answers 403 naming it, and GitHub is not called", async () => {
    const { teamId, alice } = await arrange();
    const res = await ask(alice, teamId, { repositories: ["acme/gadgets"] });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: "forbidden", details: { outside: { repositories: ["acme/gadgets"] } } });
    expect(github.calls).toEqual([]);
  });

  test("a repository in scope with contents:read: 201, GitHub limits the token to that repository and permission, no-store, audited without the token", async () => {
    const { installationId, teamId, alice, widgets, world } = await arrange();
    const mint = nockMint(installationId, world);

    const res = await ask(alice, teamId, { repositories: ["acme/widgets"], permissions: { contents: "read" } });

    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body).toEqual({
      token: mint.token,
      expiresAt: expect.any(String),
      installationId,
      repositories: ["acme/widgets"],
      permissions: { contents: "read" },
    });
    expect(mint.bodies).toEqual([{ repository_ids: [widgets.id], permissions: { contents: "read" } }]);
    const rows = await auditRows(teamId);
    expect(rows).toHaveLength(1);
    const data = typeof rows[0].data === "string" ? JSON.parse(rows[0].data) : rows[0].data;
    expect(data).toEqual({ repositories: ["acme/widgets"], permissions: { contents: "read" } });
    expect(Number(rows[0].actor_id)).toBe(ALICE.id);
    expect(JSON.stringify(rows)).not.toContain(mint.token);
    expect(github.calls).toEqual([]);
  });

  test("permissions beyond the installation's answer 403 naming them, and GitHub is not called", async () => {
    const { teamId, alice } = await arrange();
    const res = await ask(alice, teamId, { repositories: ["acme/widgets"], permissions: { issues: "write", contents: "read" } });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: "forbidden", details: { outside: { permissions: { issues: "write" } } } });
    expect(github.calls).toEqual([]);
  });

  test("an unknown permission name answers 400", async () => {
    const { teamId, alice } = await arrange();
    const res = await ask(alice, teamId, { repositories: ["acme/widgets"], permissions: { contentz: "read" } });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe("invalid_input");
    expect(github.calls).toEqual([]);
  });

  test("repositories of two installations answer 400", async () => {
    const { teamId, alice } = await arrange("all");
    const other = nextInstallationId();
    await seedInstallation(server().deps.db, other, { account: GLOBEX, permissions: PERMISSIONS });
    await seedLinks(server().deps.db, other, [{ id: teamId } as never]);
    await addInstallationRepositories(server().deps.db, other, [storedRepository(other * 10 + 1, "globex/app")]);
    const res = await ask(alice, teamId, { repositories: ["acme/widgets", "globex/app"] });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe("invalid_input");
    expect(github.calls).toEqual([]);
  });

  test("501 repositories answer 400", async () => {
    const { teamId, alice } = await arrange("all");
    const many = Array.from({ length: 501 }, (_, i) => `acme/repo-${i}`);
    const res = await ask(alice, teamId, { repositories: many });
    expect(res.status).toBe(400);
    expect(github.calls).toEqual([]);
  });

  test("without repositories, installationId is required; with it the token covers the team's whole scope", async () => {
    const listed = await arrange();
    expect((await ask(listed.alice, listed.teamId, {})).status).toBe(400);
    const mint = nockMint(listed.installationId, listed.world);
    const res = await ask(listed.alice, listed.teamId, { installationId: listed.installationId });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ repositories: ["acme/widgets"], permissions: PERMISSIONS });
    expect(mint.bodies).toEqual([{ repository_ids: [listed.widgets.id] }]);
  });

  test("with an 'all' scope and no repositories, the token is not limited to a list", async () => {
    const all = await arrange("all");
    const mint = nockMint(all.installationId, all.world);
    const res = await ask(all.alice, all.teamId, { installationId: all.installationId, permissions: { contents: "read" } });
    expect(res.status).toBe(201);
    expect((res.body.repositories as string[]).sort()).toEqual(["acme/gadgets", "acme/widgets"]);
    expect(mint.bodies).toEqual([{ permissions: { contents: "read" } }]);
  });

  test("a member of another team gets 404, and GitHub is not called", async () => {
    const { teamId } = await arrange();
    const [otherTeam] = await seedTeams(server().deps.db, 1, "other");
    const bob = await signedInMember(server().deps, BOB, otherTeam.id);
    const res = await ask(bob, teamId, { repositories: ["acme/widgets"] });
    expect(res.status).toBe(404);
    expect(github.calls).toEqual([]);
  });

  test("an API key limited to the team may ask (audited as the key); one limited to another team gets 404", async () => {
    const { installationId, teamId, world } = await arrange();
    const [otherTeam] = await seedTeams(server().deps.db, 1, "other");
    const mint = nockMint(installationId, world);
    const own = await server().deps.services.apiKeys.create("platform", { teamIds: [teamId] });
    const foreign = await server().deps.services.apiKeys.create("elsewhere", { teamIds: [otherTeam.id] });

    expect((await ask({ key: foreign.key }, teamId, { repositories: ["acme/widgets"] })).status).toBe(404);
    const res = await ask({ key: own.key }, teamId, { repositories: ["acme/widgets"] });
    expect(res.status).toBe(201);
    expect(res.body.token).toBe(mint.token);
    const rows = await server().deps.db("audit_events").where({ team_id: teamId, action: "team.token.issued" }).select("api_key_id");
    expect(rows.map((r) => Number(r.api_key_id))).toEqual([own.apiKey.id]);
  });

  test("repositories and permissions both outside: 403 names both", async () => {
    const { teamId, alice } = await arrange();
    const res = await ask(alice, teamId, { repositories: ["acme/widgets", "acme/gadgets"], permissions: { issues: "write" } });
    expect(res.status).toBe(403);
    expect(res.body.error?.details).toEqual({ outside: { repositories: ["acme/gadgets"], permissions: { issues: "write" } } });
    expect(github.calls).toEqual([]);
  });

  test("GitHub failing the mint answers 502 (503 when GitHub says 503), and the next request mints at once", async () => {
    const { installationId, teamId, alice, world } = await arrange();
    nock(GITHUB_API).post(`/app/installations/${installationId}/access_tokens`).reply(500, { message: "boom" });
    nock(GITHUB_API).post(`/app/installations/${installationId}/access_tokens`).reply(503, { message: "unavailable" });
    const body = { repositories: ["acme/widgets"] };
    const first = await ask(alice, teamId, body);
    expect([first.status, first.body.error?.code]).toEqual([502, "github_unavailable"]);
    expect((await ask(alice, teamId, body)).status).toBe(503);
    const mint = nockMint(installationId, world);
    const started = Date.now();
    const res = await ask(alice, teamId, body);
    expect(res.status).toBe(201);
    expect(res.body.token).toBe(mint.token);
    // Not held up by a lease the failed mints kept (a waiting process gives up after 10 seconds).
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("a suspended installation answers 409 installation_suspended", async () => {
    const { teamId, alice } = await arrange("widgets", { suspendedAt: new Date("2026-11-10T00:00:00Z"), suspendedBy: "owner" });
    const res = await ask(alice, teamId, { repositories: ["acme/widgets"] });
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe("installation_suspended");
    expect(github.calls).toEqual([]);
  });

  test("a shared token with less than 5 minutes left is not handed out: the next request mints a new one", async () => {
    const { installationId, teamId, alice, world } = await arrange();
    const shortLived = nockMint(installationId, world, 4 * 60_000);
    const body = { repositories: ["acme/widgets"], permissions: { contents: "read" } };
    expect((await ask(alice, teamId, body)).body.token).toBe(shortLived.token);
    const fresh = nockMint(installationId, world);
    expect((await ask(alice, teamId, body)).body.token).toBe(fresh.token);
  });

  test("a different repository list or permission set is a token of its own", async () => {
    const { installationId, teamId, alice, world } = await arrange("all");
    const read = nockMint(installationId, world);
    const write = nockMint(installationId, world);
    expect((await ask(alice, teamId, { repositories: ["acme/widgets"], permissions: { contents: "read" } })).body.token).toBe(read.token);
    expect((await ask(alice, teamId, { repositories: ["acme/widgets"], permissions: { contents: "write" } })).body.token).toBe(write.token);
    const both = nockMint(installationId, world);
    expect((await ask(alice, teamId, { repositories: ["acme/gadgets", "acme/widgets"], permissions: { contents: "read" } })).body.token).toBe(both.token);
  });

  test("the same request twice, and from a second server on the same database, mints once", async () => {
    const { installationId, teamId, alice, world } = await arrange();
    const mint = nockMint(installationId, world);
    const body = { repositories: ["acme/widgets"], permissions: { contents: "read" } };
    const first = await ask(alice, teamId, body);
    const second = await ask(alice, teamId, body);
    const other = await startTestServer(server().database);
    try {
      const third = await ask(alice, teamId, body, other.url);
      expect([first.status, second.status, third.status]).toEqual([201, 201, 201]);
      expect(second.body.token).toBe(first.body.token);
      expect(third.body.token).toBe(first.body.token);
      expect(mint.bodies).toHaveLength(1);
      expect(github.calls).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
