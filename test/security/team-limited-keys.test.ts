import type { Deps } from "../../src/deps";
import { Hop, request } from "../helpers/browser";
import { snapshotDatabase } from "../helpers/database-snapshot";
import { seedTeams } from "../helpers/factories";
import { recordUnexpectedGithubCalls, UnexpectedGithubCalls } from "../helpers/github-app";
import { expectError } from "../helpers/http-expect";
import { describeEachServerWithCli } from "../helpers/test-server";
import { ALICE } from "../helpers/users";
import { describeEachWorld, idsOf, label, MALLORY, methodOf, ROUTES, send } from "./team-routes";

/**
 * API keys limited to named teams (`api-key create --team ID …`): on every other team they are
 * an outsider (404, as a person would be), they list only their teams, create none, and the audit
 * trail names the key next to the user it acted for.
 */

/** A key limited to `teamIds`, used once already (so its "last used" is not written during a test). */
async function limitedKey(deps: Deps, teamIds: number[]): Promise<{ key: string; id: number }> {
  const { key, apiKey } = await deps.services.apiKeys.create("limited platform", { teamIds });
  await deps.services.apiKeys.authenticate(key);
  return { key, id: apiKey.id };
}

const bearer = (key: string, user?: number) => ({ authorization: `Bearer ${key}`, ...(user === undefined ? {} : { "x-octoplex-user": String(user) }) });

describeEachWorld("API keys limited to named teams", ({ server, db, world }) => {
  let github: UnexpectedGithubCalls;
  beforeEach(() => {
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => github.stop());

  const malloryTeam = async () => (await db()("team_members").where({ github_user_id: MALLORY.id }).first("team_id")).team_id as number;

  const refusals = ROUTES.flatMap((route) =>
    [
      { as: "acting for the team's admin", user: ALICE.id },
      { as: "acting for nobody", user: undefined },
    ].map((c) => ({ name: `${label(route.key)} with a key limited to another team, ${c.as}, answers 404 not_found and ${route.nothing}`, route, user: c.user })),
  );

  test.each(refusals)("$name", async ({ route, user }) => {
    const { key } = await limitedKey(server().deps, [await malloryTeam()]);
    const before = await snapshotDatabase(db());

    const hop = await send(server().url, route, idsOf(world(), methodOf(route)), bearer(key, user));

    expectError(hop, 404, "not_found");
    expect(github.calls).toEqual([]);
    expect(await snapshotDatabase(db())).toEqual(before);
  });

  test.each(ROUTES.map((route) => ({ name: `${label(route.key)} with a key limited to that team is let through`, route })))("$name", async ({ route }) => {
    const { key } = await limitedKey(server().deps, [world().teamId]);
    const hop = await send(server().url, route, idsOf(world(), methodOf(route)), bearer(key, ALICE.id));
    if (route.allowed === "github") expectError(hop, [502, 503], "github_unavailable");
    else expect({ status: hop.status, body: hop.body }).toEqual({ status: route.allowed, body: hop.body });
  });

  const listTeams = (key: string, user?: number): Promise<Hop> => request(`${server().url}/api/teams`, { headers: bearer(key, user) });

  test("GET /api/teams with a limited key lists only its teams", async () => {
    const mallorys = await malloryTeam();
    const { key } = await limitedKey(server().deps, [mallorys]);

    expect((await listTeams(key)).body).toEqual([{ id: mallorys, name: expect.any(String), role: null }]);
    // Alice's teams, as far as this key reaches: none.
    expect((await listTeams(key, ALICE.id)).body).toEqual([]);
    expect((await listTeams(key, MALLORY.id)).body).toEqual([{ id: mallorys, name: expect.any(String), role: "admin" }]);
  });

  test("GET /api/me with a limited key acting for a user lists only the user's teams the key reaches", async () => {
    const { key } = await limitedKey(server().deps, [await malloryTeam()]);
    const me = await request(`${server().url}/api/me`, { headers: bearer(key, ALICE.id) });
    expect(me.status).toBe(200);
    expect((me.body as { teams: unknown[] }).teams).toEqual([]);

    const { key: own } = await limitedKey(server().deps, [world().teamId]);
    const mine = await request(`${server().url}/api/me`, { headers: bearer(own, ALICE.id) });
    expect((mine.body as { teams: unknown[] }).teams).toEqual([{ id: world().teamId, name: expect.any(String), role: "admin" }]);
  });

  test("POST /api/teams with a limited key answers 403 forbidden, saying why, and creates no team", async () => {
    const { key } = await limitedKey(server().deps, [world().teamId]);
    const before = await snapshotDatabase(db());

    const hop = await request(`${server().url}/api/teams`, {
      method: "POST",
      headers: { ...bearer(key, ALICE.id), "content-type": "application/json" },
      body: JSON.stringify({ name: "Escape hatch" }),
    });

    expectError(hop, 403, "forbidden");
    expect((hop.body as { error: { message: string } }).error.message).toMatch(/limited to named teams.*platform-wide/);
    expect(await snapshotDatabase(db())).toEqual(before);
  });

  test("the audit trail names the key and the user it acted for; GET …/audit answers apiKeyId", async () => {
    const { key, id } = await limitedKey(server().deps, [world().teamId]);
    const path = `/api/teams/${world().teamId}/members/${MALLORY.id}`;
    const put = await request(`${server().url}${path}`, {
      method: "PUT",
      headers: { ...bearer(key, ALICE.id), "content-type": "application/json" },
      body: JSON.stringify({ role: "member" }),
    });
    expect(put.status).toBe(200);
    const bySession = await request(`${server().url}${path}`, { method: "DELETE", headers: { cookie: world().admin } });
    expect(bySession.status).toBe(204);

    const audit = await request(`${server().url}/api/teams/${world().teamId}/audit?limit=2`, { headers: { cookie: world().admin } });

    expect(audit.status).toBe(200);
    expect((audit.body as { events: unknown[] }).events).toEqual([
      expect.objectContaining({ action: "team.member.removed", actor: { type: "user", id: ALICE.id }, apiKeyId: null }),
      expect.objectContaining({ action: "team.member.added", actor: { type: "user", id: ALICE.id }, apiKeyId: id }),
    ]);
  });
});

describeEachServerWithCli("api-key create --team", ({ server, db, cli }) => {
  test("api-key create --team A --team B makes a key that acts on A and B only; api-key list shows its teams", async () => {
    const [a, b, other] = await seedTeams(db(), 3, "limited");

    const created = await cli().run(["api-key", "create", "--name", "ci", "--team", String(a.id), "--team", String(b.id)]);

    expect(created.exitCode).toBe(0);
    const id = Number(/^Created API key (\d+) /.exec(created.out[0])?.[1]);
    expect(created.out[0]).toBe(`Created API key ${id} (ci), limited to team(s) ${a.id}, ${b.id}. It is shown only this once:`);
    const key = created.out[1];
    const members = (teamId: number) => request(`${server().url}/api/teams/${teamId}/members`, { headers: bearer(key) });
    expect((await members(a.id)).status).toBe(200);
    expect((await members(b.id)).status).toBe(200);
    expectError(await members(other.id), 404, "not_found");
    const listed = await request(`${server().url}/api/teams`, { headers: bearer(key) });
    expect((listed.body as Array<{ id: number }>).map((t) => t.id)).toEqual([a.id, b.id]);

    const table = await cli().run(["api-key", "list"]);
    const json = await cli().run(["api-key", "list", "--json"]);
    expect(table.out[0]).toMatch(/^ID\s+NAME\s+PREFIX\s+TEAMS\s+/);
    expect(table.out[1].split(/\s+/).slice(0, 4)).toEqual([String(id), "ci", `${key.slice(0, 10)}…`, `${a.id},${b.id}`]);
    expect(JSON.parse(json.out.join("\n"))).toEqual([expect.objectContaining({ id, teamIds: [a.id, b.id] })]);
  });

  test("api-key create --team with a team that does not exist fails and stores no key", async () => {
    const [a] = await seedTeams(db(), 1, "limited");

    const run = await cli().run(["api-key", "create", "--name", "ci", "--team", String(a.id), "--team", String(a.id + 1000)]);

    expect(run.exitCode).toBe(1);
    expect(run.err).toEqual([`octoplex: No team with id ${a.id + 1000}`]);
    expect(await db()("api_keys")).toEqual([]);
    expect(await db()("api_key_teams")).toEqual([]);
  });
});
