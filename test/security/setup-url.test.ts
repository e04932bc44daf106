import type { Browser, Page } from "../helpers/browser";
import { DatabaseSnapshot, snapshotDatabase } from "../helpers/database-snapshot";
import { describeEachE2E } from "../helpers/e2e";
import { ALICE, BOB } from "../helpers/users";
import { seedSetupWorld } from "../fixtures/setup-world";

/**
 * GitHub's setup URL takes installation_id and state from the address bar: anyone can type
 * them. A spoofed installation, a state from another person, from a team the person may not
 * administer (any more), or for another purpose links nothing and stores nothing; the one write
 * a state attempt may make is spending that state, and only the person it was issued to can.
 */
describeEachE2E("a hostile setup URL", ({ e2e }) => {
  let alice: Browser;
  let bob: Browser;
  let aliceTeam: number;
  const ids = { globex: 0, initech: 0 };

  const createTeam = async (browser: Browser, name: string) => ((await browser.json("POST", e2e().url("/api/teams"), { name })).body as { id: number }).id;
  /** The state of the team's "Install on a new account" link, as the person got it from GET …/available. */
  const installState = async (browser: Browser, team: number) => {
    const res = await browser.json("GET", e2e().url(`/api/teams/${team}/installations/available`));
    expect(res.status).toBe(200);
    return new URL((res.body as { installUrl: string }).installUrl).searchParams.get("state")!;
  };
  const setupUrl = (installationId: number, state?: string) =>
    e2e().url(`/setup?installation_id=${installationId}&setup_action=install${state ? `&state=${encodeURIComponent(state)}` : ""}`);
  const linkRows = () => e2e().db("team_installations").select("team_id", "installation_id");
  const snapshot = (options: { except?: string[] } = {}) => snapshotDatabase(e2e().db, options);

  beforeEach(async () => {
    Object.assign(ids, seedSetupWorld(e2e().github.world));
    alice = await e2e().signIn(ALICE);
    aliceTeam = await createTeam(alice, "Alice's team");
    bob = await e2e().signIn(BOB);
  });

  /** Bob installs the app on acme from GitHub and lands on the setup URL with this state. */
  async function bobInstallsAcmeWith(state: string): Promise<Page> {
    const { github } = e2e();
    github.signInAs(BOB);
    const acme = github.world.install(github.world.org("acme")!);
    return bob.goto(setupUrl(acme.id, state));
  }

  async function expectNothingLinked(page: Page, status: number, before: DatabaseSnapshot, except: string[] = []) {
    expect(page.status).toBe(status);
    expect(page.text).not.toContain('action="/setup/link"');
    expect(await snapshot({ except })).toEqual(before);
  }

  test.each([
    ["on an org the person does not belong to", () => ids.initech],
    ["the person reaches only as a plain org member", () => ids.globex],
    ["GitHub does not know", () => 987654],
  ])("GET /setup without a state, for an installation %s, answers 403 and stores nothing", async (_name, installationId) => {
    const before = await snapshot();
    await expectNothingLinked(await bob.goto(setupUrl(installationId())), 403, before);
  });

  test.each([
    ["on an org the person does not belong to", () => ids.initech],
    ["the person reaches only as a plain org member", () => ids.globex],
  ])("GET /setup with the person's own state for their own team, but a spoofed installation %s, answers 403 and links nothing", async (_name, installationId) => {
    const team = await createTeam(bob, "Bob's team");
    const state = await installState(bob, team);
    const before = await snapshot({ except: ["oauth_states"] });
    await expectNothingLinked(await bob.goto(setupUrl(installationId(), state)), 403, before, ["oauth_states"]);
  });

  test("GET /setup with a state issued to another person, for their team, answers 403, links nothing to either team and does not spend it", async () => {
    const bobTeam = await createTeam(bob, "Bob's team");
    const aliceState = await installState(alice, aliceTeam);
    // oauth_states included: the state stays unused, for Alice to finish her install with.
    const before = await snapshot();
    await expectNothingLinked(await bobInstallsAcmeWith(aliceState), 403, before);
    expect(await linkRows()).toEqual([]);
    expect((await bob.json("GET", e2e().url(`/api/teams/${bobTeam}/installations`))).body).toEqual([]);
  });

  test("GET /setup with a state for a team the person is only a member of answers 403 and links nothing", async () => {
    await alice.json("PUT", e2e().url(`/api/teams/${aliceTeam}/members/${BOB.id}`), { role: "member" });
    // A member may look at what is available, and so holds an install link bound to Alice's team.
    const state = await installState(bob, aliceTeam);
    const before = await snapshot({ except: ["oauth_states"] });
    await expectNothingLinked(await bobInstallsAcmeWith(state), 403, before, ["oauth_states"]);
  });

  test("GET /setup with a state for a team the person was demoted in since answers 403 and links nothing", async () => {
    await alice.json("PUT", e2e().url(`/api/teams/${aliceTeam}/members/${BOB.id}`), { role: "admin" });
    const state = await installState(bob, aliceTeam);
    expect((await alice.json("PUT", e2e().url(`/api/teams/${aliceTeam}/members/${BOB.id}`), { role: "member" })).status).toBe(200);
    const before = await snapshot({ except: ["oauth_states"] });
    await expectNothingLinked(await bobInstallsAcmeWith(state), 403, before, ["oauth_states"]);
  });

  test("GET /setup with a state for a team the person was removed from since answers 404 and links nothing", async () => {
    await alice.json("PUT", e2e().url(`/api/teams/${aliceTeam}/members/${BOB.id}`), { role: "admin" });
    const state = await installState(bob, aliceTeam);
    expect((await alice.json("DELETE", e2e().url(`/api/teams/${aliceTeam}/members/${BOB.id}`))).status).toBe(204);
    const before = await snapshot({ except: ["oauth_states"] });
    await expectNothingLinked(await bobInstallsAcmeWith(state), 404, before, ["oauth_states"]);
  });

  test("GET /setup with a sign-in state (another purpose) answers 400 and links nothing", async () => {
    const loginState = await e2e().server.deps.services.auth!.states.issue("login", { returnTo: "/" });
    const before = await snapshot();
    await expectNothingLinked(await bobInstallsAcmeWith(loginState), 400, before);
  });

  test("GET /setup with an expired state answers 400 and links nothing", async () => {
    const team = await createTeam(bob, "Bob's team");
    const state = await installState(bob, team);
    await e2e().db("oauth_states").update({ expires_at: new Date(Date.now() - 1000).toISOString() });
    const before = await snapshot();
    await expectNothingLinked(await bobInstallsAcmeWith(state), 400, before);
  });

  test("GET /setup with the person's valid state links the installation to that state's team only", async () => {
    const bobTeam = await createTeam(bob, "Bob's team");
    const otherBobTeam = await createTeam(bob, "Bob's other team");
    const state = await installState(bob, bobTeam);
    const page = await bobInstallsAcmeWith(state);
    expect(new URL(page.url).pathname).toBe(`/teams/${bobTeam}/connect`);
    const [acme] = e2e().github.world.installations().filter((i) => i.account.login === "acme");
    expect((await linkRows()).map((r) => [Number(r.team_id), Number(r.installation_id)])).toEqual([[bobTeam, acme.id]]);
    expect((await bob.json("GET", e2e().url(`/api/teams/${otherBobTeam}/installations`))).body).toEqual([]);
    // Spent: the same link, sent again, is refused.
    const before = await snapshot();
    await expectNothingLinked(await bob.goto(setupUrl(acme.id, state)), 400, before);
  });
});
