import { routableEventNames } from "../../../src/github/routable-events";
import type { Browser } from "../../helpers/browser";
import { describeEachE2E } from "../../helpers/e2e";
import { countRows } from "../../helpers/factories";
import { expectError, writeCounts } from "../../helpers/http-expect";
import { ALICE, BOB } from "../../helpers/users";

describeEachE2E("team subscriptions", ({ e2e }) => {
  let bob: Browser;
  let teamId: number;

  const path = (team = teamId) => `/api/teams/${team}/subscriptions`;
  const get = (who: Browser, team = teamId) => who.json("GET", e2e().url(path(team)));
  const put = (who: Browser, events: unknown, team = teamId) => who.json("PUT", e2e().url(path(team)), { events });
  const audited = async () =>
    (await e2e().db("audit_events").where({ action: "team.subscriptions.changed" }).orderBy("id")).map((e) => [
      Number(e.team_id),
      Number(e.actor_id),
      typeof e.data === "string" ? JSON.parse(e.data) : e.data,
    ]);

  beforeEach(async () => {
    bob = await e2e().signIn(BOB);
    teamId = ((await bob.json("POST", e2e().url("/api/teams"), { name: "Team B" })).body as { id: number }).id;
  });

  test("PUT /api/teams/:teamId/subscriptions replaces the set (sorted, once each), audited with before and after; GET reads it", async () => {
    expect(await get(bob)).toMatchObject({ status: 200, body: { events: [] } });

    expect(await put(bob, ["push", "pull_request", "push", "release"])).toMatchObject({ status: 200, body: { events: ["pull_request", "push", "release"] } });
    expect(await put(bob, ["create"])).toMatchObject({ status: 200, body: { events: ["create"] } });
    // The same set again changes nothing, so nothing is audited.
    expect(await put(bob, ["create"])).toMatchObject({ status: 200, body: { events: ["create"] } });

    expect(await get(bob)).toMatchObject({ status: 200, body: { events: ["create"] } });
    expect(await audited()).toEqual([
      [teamId, BOB.id, { before: [], after: ["pull_request", "push", "release"] }],
      [teamId, BOB.id, { before: ["pull_request", "push", "release"], after: ["create"] }],
    ]);
  });

  test("PUT …/subscriptions with an unknown event name is refused 400 listing the known ones; nothing is written", async () => {
    await put(bob, ["push"]);
    const before = { ...(await writeCounts(e2e().db)), subscriptions: await countRows(e2e().db, "team_subscriptions") };

    for (const events of [["push", "pushh"], ["installation"], ["push.created"], [""], "push", [42]]) {
      const res = await put(bob, events);
      expectError(res, 400, "invalid_input");
    }
    const res = await put(bob, ["push", "pushh"]);
    const message = (res.body as { error: { message: string } }).error.message;
    expect(message).toContain("pushh");
    for (const known of ["push", "pull_request", "release", "create", "delete", "repository"]) expect(message).toContain(known);
    expect(message).not.toMatch(/Known:.*\binstallation\b/);

    expect({ ...(await writeCounts(e2e().db)), subscriptions: await countRows(e2e().db, "team_subscriptions") }).toEqual(before);
    expect((await get(bob)).body).toEqual({ events: ["push"] });
  });

  test("a plain member reads the subscriptions but may not change them (403); a non-member gets 404 for both", async () => {
    await put(bob, ["push"]);
    const alice = await e2e().signIn(ALICE);
    expectError(await get(alice), 404, "not_found");
    expectError(await put(alice, ["release"]), 404, "not_found");

    expect((await bob.json("PUT", e2e().url(`/api/teams/${teamId}/members/${ALICE.id}`), { role: "member" })).status).toBe(200);
    expect(await get(alice)).toMatchObject({ status: 200, body: { events: ["push"] } });
    expectError(await put(alice, ["release"]), 403, "forbidden");
    expect((await get(bob)).body).toEqual({ events: ["push"] });
  });

  test("an API key acts as a team admin: it may replace the subscriptions, audited with its key id", async () => {
    const { key, apiKey } = await e2e().server.deps.services.apiKeys.create("platform");
    const res = await fetch(e2e().url(path()), {
      method: "PUT",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ events: ["workflow_run"] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ events: ["workflow_run"] });
    const row = await e2e().db("audit_events").where({ action: "team.subscriptions.changed" }).first("api_key_id");
    expect(Number(row.api_key_id)).toBe(apiKey.id);
  });

  test("the known names are GitHub's webhook event types without the installation-level ones Octoplex keeps", () => {
    const known = routableEventNames();
    expect(known).toEqual(expect.arrayContaining(["push", "pull_request", "release", "create", "delete", "repository", "workflow_run", "check_suite"]));
    for (const kept of ["installation", "installation_repositories", "installation_target", "github_app_authorization", "marketplace_purchase", "ping"]) {
      expect(known).not.toContain(kept);
    }
    expect(known.every((name) => /^[a-z_0-9]+$/.test(name))).toBe(true);
  });
});
