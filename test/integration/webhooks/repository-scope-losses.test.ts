import { listInstallationRepositories } from "../../../src/repositories/installation-repositories";
import { scopesOfTeam, writeScope } from "../../../src/repositories/link-scopes";
import { AccountFixture, installationEvent, installationRepositoriesEvent, ORG, repository, repositoryEvent } from "../../fixtures/payloads";
import { seedLinks, seedTeams } from "../../helpers/factories";
import { failOutboxInserts, outboxSummary } from "../../helpers/outbox";
import { newPlatformSecret, platformEnv } from "../../helpers/platform-receiver";
import { describeEachServer } from "../../helpers/test-server";

const OTHER: AccountFixture = { id: 9002, login: "globex", type: "Organization" };
const INSTALLATION = 821;
const API = repository(11, "acme/api");
const WEB = repository(12, "acme/web");
const DOCS = repository(13, "acme/docs");

// A repository that leaves an installation leaves the list scopes by the foreign key's cascade;
// each team whose list held it hears of it (audit and platform event) in the same transaction.
describeEachServer(
  "a repository leaving its installation changes the teams' list scopes, told as team.installation.scope_changed",
  ({ server, db }) => {
    async function send(event: string, payload: unknown) {
      return server().sendWebhook(event, payload);
    }
    /** acme's installation (api, web, docs) linked to three teams: listing [api, web], listing [docs], and "all". */
    async function arrange() {
      expect((await send("installation", installationEvent("created", { id: INSTALLATION, repositorySelection: "all" }, [API, WEB, DOCS]))).status).toBe(200);
      const [listing, docsOnly, everything] = await seedTeams(db(), 3, "scoped");
      await seedLinks(db(), INSTALLATION, [listing, docsOnly, everything]);
      await writeScope(db(), listing.id, INSTALLATION, [API.id, WEB.id]);
      await writeScope(db(), docsOnly.id, INSTALLATION, [DOCS.id]);
      await db()("outbox_events").delete();
      return { listing: listing.id, docsOnly: docsOnly.id, everything: everything.id };
    }
    const scopeEvents = async () => (await outboxSummary(db())).filter(([type]) => type === "team.installation.scope_changed");
    const audited = async () =>
      (await db()("audit_events").where({ action: "team.installation.scope_changed" }).orderBy("id")).map((e) => [
        Number(e.team_id),
        e.actor_type,
        typeof e.data === "string" ? JSON.parse(e.data) : e.data,
      ]);

    test("installation_repositories.removed: the team listing it gets one event with the scope after and the removed id; the others none", async () => {
      const { listing } = await arrange();

      const res = await send("installation_repositories", installationRepositoriesEvent("removed", { id: INSTALLATION, repositorySelection: "selected" }, { removed: [API] }));

      expect(res.status).toBe(200);
      expect(await scopeEvents()).toEqual([
        ["team.installation.scope_changed", listing, { teamId: listing, installationId: INSTALLATION, repositories: [WEB.id], removed: [API.id] }],
      ]);
      expect(await audited()).toEqual([[listing, "github", { before: [API.id, WEB.id], after: [WEB.id], removed: [API.id] }]]);
      expect((await scopesOfTeam(db(), listing)).get(INSTALLATION)).toEqual([WEB.id]);
    });

    test("repository.deleted: the team listing it is told; a redelivery tells nobody again", async () => {
      const { docsOnly } = await arrange();

      expect((await server().sendWebhook("repository", repositoryEvent("deleted", INSTALLATION, { id: DOCS.id, name: "docs" }), { deliveryId: "gone-1" })).status).toBe(200);
      expect((await server().sendWebhook("repository", repositoryEvent("deleted", INSTALLATION, { id: DOCS.id, name: "docs" }), { deliveryId: "gone-1" })).status).toBe(200);

      expect(await scopeEvents()).toEqual([
        ["team.installation.scope_changed", docsOnly, { teamId: docsOnly, installationId: INSTALLATION, repositories: [], removed: [DOCS.id] }],
      ]);
    });

    test("repository.transferred to another account: the old installation's listing team is told", async () => {
      const { listing } = await arrange();

      await send("repository", repositoryEvent("transferred", INSTALLATION, { id: WEB.id, name: "web", owner: OTHER }, { owner: { from: { organization: ORG } } }));

      expect(await scopeEvents()).toEqual([
        ["team.installation.scope_changed", listing, { teamId: listing, installationId: INSTALLATION, repositories: [API.id], removed: [WEB.id] }],
      ]);
    });

    test("a repository no team lists leaves quietly", async () => {
      await arrange();
      const extra = repository(14, "acme/extra");
      await send("installation_repositories", installationRepositoriesEvent("added", { id: INSTALLATION, repositorySelection: "all" }, { added: [extra] }));

      await send("installation_repositories", installationRepositoriesEvent("removed", { id: INSTALLATION, repositorySelection: "all" }, { removed: [extra] }));

      expect((await listInstallationRepositories(db(), INSTALLATION)).map((r) => r.id).sort()).toEqual([API.id, WEB.id, DOCS.id]);
      expect(await scopeEvents()).toEqual([]);
    });

    test("the event is written in the removal's transaction: when it cannot be, the repository stays and the delivery fails", async () => {
      const { listing } = await arrange();
      const restore = await failOutboxInserts(db());
      try {
        const res = await send("installation_repositories", installationRepositoriesEvent("removed", { id: INSTALLATION, repositorySelection: "selected" }, { removed: [API] }));
        expect(res.status).toBeGreaterThanOrEqual(500);
      } finally {
        await restore();
      }
      expect((await listInstallationRepositories(db(), INSTALLATION)).map((r) => r.id)).toContain(API.id);
      expect((await scopesOfTeam(db(), listing)).get(INSTALLATION)).toEqual([API.id, WEB.id]);
    });
  },
  { env: platformEnv({ url: "http://127.0.0.1:9/platform", secret: newPlatformSecret() }) },
);
