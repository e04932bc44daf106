import { Browser, formFields, Hop, request } from "../../helpers/browser";
import { describeEachE2E } from "../../helpers/e2e";
import { expectError, writeCounts } from "../../helpers/http-expect";
import { ALICE, BOB } from "../../helpers/users";

const ACME = { id: 9001, login: "acme" };
const CAROL = { id: 5003, login: "carol" };

interface Member {
  githubUserId: number;
  login: string | null;
  role: string;
}

describeEachE2E("teams and members", ({ e2e }) => {
  let bob: Browser;
  let alice: Browser;
  let teamB: number; // Bob's team
  let teamA: number; // Alice's team
  let acmeId: number;

  const post = (browser: Browser, path: string, body?: unknown) => browser.json("POST", e2e().url(path), body);
  const get = (browser: Browser, path: string) => browser.json("GET", e2e().url(path));

  beforeEach(async () => {
    const { github } = e2e();
    const acme = github.world.addOrg(ACME);
    github.world.setMembership(acme, BOB, "admin");
    acmeId = github.world.install(acme).id;
    bob = await e2e().signIn(BOB);
    alice = await e2e().signIn(ALICE);
    teamB = ((await post(bob, "/api/teams", { name: "Bob's team" })).body as { id: number }).id;
    teamA = ((await post(alice, "/api/teams", { name: "Alice's team" })).body as { id: number }).id;
    expect((await post(bob, `/api/teams/${teamB}/installations`, { installationId: acmeId })).status).toBe(201);
  });

  test("POST /api/teams answers 201 { id, name } and makes the caller the team's only admin", async () => {
    const created = await post(bob, "/api/teams", { name: "  Platform  " });
    expect(created.status).toBe(201);
    const team = created.body as { id: number; name: string };
    expect(team).toEqual({ id: expect.any(Number), name: "Platform" });
    const members = (await get(bob, `/api/teams/${team.id}/members`)).body as Member[];
    expect(members).toEqual([expect.objectContaining({ githubUserId: BOB.id, login: "bob", role: "admin" })]);
    const audit = await e2e().db("audit_events").where({ team_id: team.id });
    expect(audit.map((e) => e.action)).toEqual(["team.created"]);
  });

  test("GET /api/teams lists only the caller's teams, with their role", async () => {
    expect((await get(bob, "/api/teams")).body).toEqual([{ id: teamB, name: "Bob's team", role: "admin" }]);
    expect((await get(alice, "/api/teams")).body).toEqual([{ id: teamA, name: "Alice's team", role: "admin" }]);
  });

  test("every /api/teams/:teamId route rejects a caller without access with 404 and writes nothing", async () => {
    const before = await writeCounts(e2e().db);
    const routes: Array<[string, string, unknown?]> = [
      ["GET", `/api/teams/${teamB}/members`],
      ["PUT", `/api/teams/${teamB}/members/${ALICE.id}`, { role: "admin" }],
      ["DELETE", `/api/teams/${teamB}/members/${BOB.id}`],
      ["GET", `/api/teams/${teamB}/installations`],
      ["GET", `/api/teams/${teamB}/installations/available`],
      ["POST", `/api/teams/${teamB}/installations`, { installationId: acmeId }],
      ["DELETE", `/api/teams/${teamB}/installations/${acmeId}`],
    ];
    for (const [method, path, body] of routes) {
      const hop = await alice.json(method, e2e().url(path), body);
      expect({ method, path, status: hop.status }).toEqual({ method, path, status: 404 });
      expectError(hop, 404, "not_found");
    }
    // The same answer as for a team that does not exist: ids cannot be probed.
    const missing = await get(alice, `/api/teams/${teamB + 1000}/members`);
    expect((missing.body as { error: { message: string } }).error.message.replace(String(teamB + 1000), "N")).toBe(
      ((await get(alice, `/api/teams/${teamB}/members`)).body as { error: { message: string } }).error.message.replace(String(teamB), "N"),
    );
    expect(await writeCounts(e2e().db)).toEqual(before);
  });

  test("GET /teams/:teamId/connect and its forms answer 404 to someone outside the team", async () => {
    const before = await writeCounts(e2e().db);
    const page = await alice.goto(e2e().url(`/teams/${teamB}/connect`));
    expect(page.status).toBe(404);
    expect(page.text).toContain("not found");
    // Alice's own CSRF token is valid for her session, the team is still not hers.
    const home = await alice.goto(e2e().url("/"));
    const { csrf } = formFields(home.text, "/teams");
    for (const verb of ["link", "unlink"]) {
      const posted = await alice.submit(e2e().url(`/teams/${teamB}/connect/${verb}`), { csrf, installation_id: String(acmeId) });
      expect({ verb, status: posted.status }).toEqual({ verb, status: 404 });
    }
    expect(await writeCounts(e2e().db)).toEqual(before);
  });

  test("a member reads members and installations but every write answers 403 and writes nothing", async () => {
    expect((await bob.json("PUT", e2e().url(`/api/teams/${teamB}/members/${ALICE.id}`), { role: "member" })).status).toBe(200);
    const before = await writeCounts(e2e().db);

    const members = await get(alice, `/api/teams/${teamB}/members`);
    expect(members.status).toBe(200);
    expect((members.body as Member[]).map((m) => [m.githubUserId, m.role])).toEqual([
      [ALICE.id, "member"],
      [BOB.id, "admin"],
    ]);
    expect((await get(alice, `/api/teams/${teamB}/installations`)).body).toEqual([expect.objectContaining({ installationId: acmeId })]);
    // Alice reaches nothing on GitHub, but may look.
    expect((await get(alice, `/api/teams/${teamB}/installations/available`)).status).toBe(200);

    const writes: Array<[string, string, unknown?]> = [
      ["PUT", `/api/teams/${teamB}/members/${CAROL.id}`, { role: "member" }],
      ["PUT", `/api/teams/${teamB}/members/${ALICE.id}`, { role: "admin" }],
      ["DELETE", `/api/teams/${teamB}/members/${BOB.id}`],
      ["POST", `/api/teams/${teamB}/installations`, { installationId: acmeId }],
      ["DELETE", `/api/teams/${teamB}/installations/${acmeId}`],
    ];
    for (const [method, path, body] of writes) {
      const hop = await alice.json(method, e2e().url(path), body);
      expect({ method, path, status: hop.status }).toEqual({ method, path, status: 403 });
      expectError(hop, 403, "forbidden");
    }
    expect(await writeCounts(e2e().db)).toEqual(before);
  });

  test("an admin adds, promotes, demotes and removes members; each change is audited", async () => {
    const put = (user: number, role: string) => bob.json("PUT", e2e().url(`/api/teams/${teamB}/members/${user}`), { role });
    const added = await put(ALICE.id, "member");
    expect(added.status).toBe(200);
    expect(added.body).toEqual({ githubUserId: ALICE.id, role: "member" });
    expect((await put(ALICE.id, "admin")).body).toEqual({ githubUserId: ALICE.id, role: "admin" });
    // Someone who has never signed in can be added by their GitHub id.
    expect((await put(CAROL.id, "member")).status).toBe(200);
    const members = (await get(bob, `/api/teams/${teamB}/members`)).body as Member[];
    expect(members.map((m) => [m.githubUserId, m.login, m.role])).toEqual([
      [ALICE.id, "alice", "admin"],
      [BOB.id, "bob", "admin"],
      [CAROL.id, null, "member"],
    ]);

    // Alice, now an admin, demotes Bob and removes Carol.
    expect((await alice.json("PUT", e2e().url(`/api/teams/${teamB}/members/${BOB.id}`), { role: "member" })).status).toBe(200);
    const removed = await alice.json("DELETE", e2e().url(`/api/teams/${teamB}/members/${CAROL.id}`));
    expect(removed.status).toBe(204);
    expect(((await get(bob, `/api/teams/${teamB}/members`)).body as Member[]).map((m) => [m.githubUserId, m.role])).toEqual([
      [ALICE.id, "admin"],
      [BOB.id, "member"],
    ]);
    expect((await get(bob, "/api/teams")).body).toEqual([{ id: teamB, name: "Bob's team", role: "member" }]);

    const actions = await e2e().db("audit_events").where({ team_id: teamB }).orderBy("id").pluck("action");
    expect(actions).toEqual([
      "team.created",
      "team.installation.linked",
      "team.member.added",
      "team.member.updated",
      "team.member.added",
      "team.member.updated",
      "team.member.removed",
    ]);
  });

  test("the last admin can be neither demoted nor removed: 409 conflict, nothing written", async () => {
    const before = await writeCounts(e2e().db);
    expectError(await bob.json("PUT", e2e().url(`/api/teams/${teamB}/members/${BOB.id}`), { role: "member" }), 409, "conflict");
    expectError(await bob.json("DELETE", e2e().url(`/api/teams/${teamB}/members/${BOB.id}`)), 409, "conflict");
    expect(await writeCounts(e2e().db)).toEqual(before);
    expect((await get(bob, `/api/teams/${teamB}/members`)).body).toEqual([expect.objectContaining({ githubUserId: BOB.id, role: "admin" })]);

    // With a second admin, Bob may step down.
    await bob.json("PUT", e2e().url(`/api/teams/${teamB}/members/${ALICE.id}`), { role: "admin" });
    expect((await bob.json("DELETE", e2e().url(`/api/teams/${teamB}/members/${BOB.id}`))).status).toBe(204);
    expectError(await get(bob, `/api/teams/${teamB}/members`), 404, "not_found");
  });

  test("DELETE /api/teams/:teamId/members/:githubUserId of someone who is not a member answers 404", async () => {
    const before = await writeCounts(e2e().db);
    expectError(await bob.json("DELETE", e2e().url(`/api/teams/${teamB}/members/${CAROL.id}`)), 404, "not_found");
    expect(await writeCounts(e2e().db)).toEqual(before);
  });

  test("every /api route answers 401 unauthenticated without a session or key, and to an unknown key", async () => {
    const before = await writeCounts(e2e().db);
    const routes: Array<[string, string]> = [
      ["GET", "/api/teams"],
      ["POST", "/api/teams"],
      ["GET", `/api/teams/${teamB}/members`],
      ["PUT", `/api/teams/${teamB}/members/${ALICE.id}`],
      ["DELETE", `/api/teams/${teamB}/members/${BOB.id}`],
      ["GET", `/api/teams/${teamB}/installations`],
      ["GET", `/api/teams/${teamB}/installations/available`],
      ["POST", `/api/teams/${teamB}/installations`],
      ["DELETE", `/api/teams/${teamB}/installations/${acmeId}`],
    ];
    for (const [method, path] of routes) {
      const variants: Array<Record<string, string>> = [{}, { authorization: "Bearer opx_unknownunknownunknownunknownunknown" }, { cookie: "octoplex_session=forged" }];
      for (const headers of variants) {
        const hop = await request(e2e().url(path), { method, headers });
        expect({ method, path, headers, status: hop.status }).toEqual({ method, path, headers, status: 401 });
        expectError(hop, 401, "unauthenticated");
      }
    }
    expect(await writeCounts(e2e().db)).toEqual(before);
  });

  describe("with an API key", () => {
    let key: string;
    const asKey = (method: string, path: string, body?: unknown, user?: number | string): Promise<Hop> => {
      const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: "application/json" };
      if (user !== undefined) headers["x-octoplex-user"] = String(user);
      if (body !== undefined) headers["content-type"] = "application/json";
      return request(e2e().url(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    };

    beforeEach(async () => {
      key = (await e2e().server.deps.services.apiKeys.create("platform")).key;
    });

    test("without X-Octoplex-User it may act on every team: list, read, manage members, unlink", async () => {
      expect(((await asKey("GET", "/api/teams")).body as Array<{ id: number }>).map((t) => t.id).sort()).toEqual([teamB, teamA].sort());
      expect((await asKey("GET", `/api/teams/${teamA}/members`)).status).toBe(200);
      expect((await asKey("GET", `/api/teams/${teamB}/installations`)).body).toEqual([expect.objectContaining({ installationId: acmeId })]);
      expect((await asKey("PUT", `/api/teams/${teamA}/members/${CAROL.id}`, { role: "member" })).status).toBe(200);
      expect((await asKey("DELETE", `/api/teams/${teamB}/installations/${acmeId}`)).status).toBe(204);
      expect(await e2e().db("audit_events").where({ team_id: teamB, action: "team.installation.unlinked" }).pluck("actor_type")).toEqual(["system"]);
    });

    test("without X-Octoplex-User nor admin in the body, POST /api/teams answers 400 user_required and creates no team", async () => {
      const before = await writeCounts(e2e().db);
      const hop = await asKey("POST", "/api/teams", { name: "Platform-made" });
      expectError(hop, 400, "user_required");
      expect((hop.body as { error: { message: string } }).error.message).toMatch(/X-Octoplex-User.*admin/);
      expect(await writeCounts(e2e().db)).toEqual(before);
    });

    test("POST /api/teams with X-Octoplex-User makes that user the team's only admin", async () => {
      const created = await asKey("POST", "/api/teams", { name: "Platform-made" }, CAROL.id);
      expect(created.status).toBe(201);
      const { id } = created.body as { id: number };
      expect(((await asKey("GET", `/api/teams/${id}/members`)).body as Member[]).map((m) => [m.githubUserId, m.role])).toEqual([[CAROL.id, "admin"]]);
    });

    test("POST /api/teams with admin in the body (and no X-Octoplex-User) makes that user the team's only admin", async () => {
      const created = await asKey("POST", "/api/teams", { name: "Platform-made", admin: CAROL.id });
      expect(created.status).toBe(201);
      const { id } = created.body as { id: number };
      expect(((await asKey("GET", `/api/teams/${id}/members`)).body as Member[]).map((m) => [m.githubUserId, m.role])).toEqual([[CAROL.id, "admin"]]);
      expect(await e2e().db("audit_events").where({ team_id: id }).select("action", "actor_type", "actor_id")).toEqual([
        { action: "team.created", actor_type: "system", actor_id: null },
      ]);
    });

    test("POST /api/teams with admin in the body from a signed-in person answers 400 invalid_input and creates no team", async () => {
      const before = await writeCounts(e2e().db);
      expectError(await post(bob, "/api/teams", { name: "For Carol", admin: CAROL.id }), 400, "invalid_input");
      expect(await writeCounts(e2e().db)).toEqual(before);
    });

    test("GET /api/teams without X-Octoplex-User lists every team with role null, not a made-up admin", async () => {
      const listed = (await asKey("GET", "/api/teams")).body as Array<{ id: number; role: unknown }>;
      expect([...listed].sort((a, b) => a.id - b.id)).toEqual(
        [
          { id: teamB, name: "Bob's team", role: null },
          { id: teamA, name: "Alice's team", role: null },
        ].sort((a, b) => a.id - b.id),
      );
    });

    test("GET /api/teams with X-Octoplex-User lists that user's teams with their real roles", async () => {
      expect((await bob.json("PUT", e2e().url(`/api/teams/${teamB}/members/${ALICE.id}`), { role: "member" })).status).toBe(200);
      expect((await asKey("GET", "/api/teams", undefined, ALICE.id)).body).toEqual([
        { id: teamB, name: "Bob's team", role: "member" },
        { id: teamA, name: "Alice's team", role: "admin" },
      ].sort((a, b) => a.id - b.id));
      expect((await asKey("GET", "/api/teams", undefined, CAROL.id)).body).toEqual([]);
    });

    test("without X-Octoplex-User, routes that need a user token answer 400 user_required and write nothing", async () => {
      const before = await writeCounts(e2e().db);
      expectError(await asKey("GET", `/api/teams/${teamA}/installations/available`), 400, "user_required");
      expectError(await asKey("POST", `/api/teams/${teamA}/installations`, { installationId: acmeId }), 400, "user_required");
      expect(await writeCounts(e2e().db)).toEqual(before);
    });

    test("with X-Octoplex-User it sees that user's installations and links with that user's proof, on any team", async () => {
      const available = await asKey("GET", `/api/teams/${teamA}/installations/available`, undefined, BOB.id);
      expect(available.status).toBe(200);
      expect((available.body as { installations: unknown[] }).installations).toEqual([
        expect.objectContaining({ installationId: acmeId, linked: false, linkable: true }),
      ]);
      // Team A is Alice's; the key may act on every team, and Bob proves he may hand acme over.
      const linked = await asKey("POST", `/api/teams/${teamA}/installations`, { installationId: acmeId }, BOB.id);
      expect(linked.status).toBe(201);
      expect(linked.body).toEqual(expect.objectContaining({ installationId: acmeId, linkedBy: BOB.id }));
    });

    test("with X-Octoplex-User of a user without that power, linking answers 403 and writes nothing", async () => {
      const before = await writeCounts(e2e().db);
      expectError(await asKey("POST", `/api/teams/${teamA}/installations`, { installationId: acmeId }, ALICE.id), 403, "forbidden");
      expect(await writeCounts(e2e().db)).toEqual(before);
    });

    test("with X-Octoplex-User of someone who never signed in, user routes answer 401 reauthorization_required, telling them to sign in (not again)", async () => {
      const before = await writeCounts(e2e().db);
      const available = await asKey("GET", `/api/teams/${teamA}/installations/available`, undefined, CAROL.id);
      const link = await asKey("POST", `/api/teams/${teamA}/installations`, { installationId: acmeId }, CAROL.id);
      for (const hop of [available, link]) {
        expectError(hop, 401, "reauthorization_required");
        const { message } = (hop.body as { error: { message: string } }).error;
        expect(message).toMatch(/^Sign in with GitHub first/);
        expect(message).not.toMatch(/again|no longer valid/);
      }
      expect(await writeCounts(e2e().db)).toEqual(before);
    });

    test.each(["abc", "-1", "1.5", "0", "9007199254740993"])("X-Octoplex-User %j answers 400 invalid_input", async (user) => {
      expectError(await asKey("GET", "/api/teams", undefined, user), 400, "invalid_input");
    });
  });
});
