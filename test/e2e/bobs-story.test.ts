import { formFields } from "../helpers/browser";
import { describeEachE2E } from "../helpers/e2e";
import { countRows } from "../helpers/factories";
import { BOB } from "../helpers/users";

const ACME = { id: 9001, login: "acme" };

interface Linked {
  installationId: number;
  account: { id: number; login: string; type: string };
  linkedBy: number | null;
}
interface Available {
  installations: Array<{ installationId: number; account: { login: string }; linked: boolean; linkable: boolean }>;
  installUrl: string;
}

// Everything over HTTP: Bob's browser and the app server talk to a fake GitHub on loopback; nothing is nocked.
describeEachE2E("Bob's story", ({ e2e }) => {
  test("Bob signs in, installs on acme for team A, connects acme to team B, and an uninstall unlinks both", async () => {
    const { github, url, db } = e2e();
    github.world.setMembership(github.world.addOrg(ACME), BOB, "admin");

    // Signs in with GitHub: /auth/login → GitHub's authorize → /auth/callback → home, with a session.
    const bob = await e2e().signIn(BOB);
    expect(bob.landing.status).toBe(200);
    expect(bob.landing.hops.map((h) => new URL(h.url).pathname)).toEqual(["/auth/login", "/login/oauth/authorize", "/auth/callback", "/"]);
    const me = await bob.json("GET", url("/api/me"));
    expect(me.body).toMatchObject({ user: { id: BOB.id, login: BOB.login }, authorization: "active", teams: [] });

    // Team A: nothing to connect yet, so Bob installs the app on acme from the install link.
    const teamA = (await bob.json("POST", url("/api/teams"), { name: "Team A" })).body as { id: number };
    const before = await bob.json("GET", url(`/api/teams/${teamA.id}/installations/available`));
    expect(before.status).toBe(200);
    const { installations: reachableBefore, installUrl } = before.body as Available;
    expect(reachableBefore).toEqual([]);
    expect(installUrl).toMatch(new RegExp(`^${github.url}/apps/octoplex/installations/new\\?state=`));

    github.setInstallTarget(github.world.org("acme")!);
    const installed = await bob.goto(installUrl);
    const [acmeInstallation] = github.world.installations();
    expect(installed.hops.map((h) => `${h.status} ${new URL(h.url).pathname}`)).toEqual([
      "302 /apps/octoplex/installations/new",
      "302 /setup",
      `200 /teams/${teamA.id}/connect`,
    ]);
    expect(new URL(installed.hops[1].url).searchParams.get("installation_id")).toBe(String(acmeInstallation.id));
    expect(installed.text).toContain(`data-installation-id="${acmeInstallation.id}"`);

    const linkedA = (await bob.json("GET", url(`/api/teams/${teamA.id}/installations`))).body as Linked[];
    expect(linkedA).toEqual([
      expect.objectContaining({
        installationId: acmeInstallation.id,
        account: expect.objectContaining({ id: ACME.id, login: "acme", type: "Organization" }),
        repositorySelection: "all",
        suspended: false,
        linkedBy: BOB.id,
      }),
    ]);

    // Team B: acme is reachable and not linked to B yet; Bob connects it from the connect page.
    const teamB = (await bob.json("POST", url("/api/teams"), { name: "Team B" })).body as { id: number };
    const available = (await bob.json("GET", url(`/api/teams/${teamB.id}/installations/available`))).body as Available;
    expect(available.installations).toEqual([
      expect.objectContaining({ installationId: acmeInstallation.id, account: expect.objectContaining({ login: "acme" }), linked: false, linkable: true }),
    ]);
    const connectPage = await bob.goto(url(`/teams/${teamB.id}/connect`));
    expect(connectPage.status).toBe(200);
    const form = formFields(connectPage.text, `/teams/${teamB.id}/connect/link`, (f) => f.installation_id === String(acmeInstallation.id));
    const connected = await bob.submit(url(`/teams/${teamB.id}/connect/link`), form);
    expect(connected.hops.map((h) => h.status)).toEqual([303, 200]);
    expect(connected.url).toBe(url(`/teams/${teamB.id}/connect`));

    // acme now serves both teams.
    for (const team of [teamA, teamB]) {
      const linked = (await bob.json("GET", url(`/api/teams/${team.id}/installations`))).body as Linked[];
      expect(linked.map((l) => l.installationId)).toEqual([acmeInstallation.id]);
    }
    const availableB = (await bob.json("GET", url(`/api/teams/${teamB.id}/installations/available`))).body as Available;
    expect(availableB.installations.map((i) => i.linked)).toEqual([true]);
    expect(await countRows(db, "team_installations")).toBe(2);

    // Someone uninstalls the app from acme: GitHub's webhook unlinks it from both teams.
    const removed = github.world.uninstall(acmeInstallation.id)!;
    const delivered = await e2e().sendInstallationEvent("deleted", removed);
    expect(delivered.status).toBe(200);
    for (const team of [teamA, teamB]) {
      expect((await bob.json("GET", url(`/api/teams/${team.id}/installations`))).body).toEqual([]);
    }
    expect(await countRows(db, "team_installations")).toBe(0);
    expect(await countRows(db, "installations")).toBe(0);
    const unlinked = await db("audit_events").where({ action: "team.installation.unlinked" }).orderBy("team_id");
    expect(unlinked.map((e) => Number(e.team_id))).toEqual([teamA.id, teamB.id]);
    expect((await bob.json("GET", url(`/api/teams/${teamB.id}/installations/available`))).body).toMatchObject({ installations: [] });
  });
});
