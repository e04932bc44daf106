import { listInstallationRepositories } from "../../../src/repositories/installation-repositories";
import {
  AccountFixture,
  installationEvent,
  installationRepositoriesEvent,
  ORG,
  repository,
  RepositoryAction,
  repositoryEvent,
  RepositoryFixture,
} from "../../fixtures/payloads";
import { countRows } from "../../helpers/factories";
import { describeEachServer } from "../../helpers/test-server";

const OTHER: AccountFixture = { id: 9002, login: "globex", type: "Organization" };

describeEachServer("repository webhooks over HTTP", ({ server, db }) => {
  async function send(event: string, payload: unknown, deliveryId?: string) {
    const res = await server().sendWebhook(event, payload, deliveryId ? { deliveryId } : undefined);
    expect(res.status).toBe(200);
  }
  const install = (id: number, selection: "all" | "selected", repos: ReturnType<typeof repository>[] = [], account: AccountFixture = ORG) =>
    send("installation", installationEvent("created", { id, account, repositorySelection: selection }, repos));
  const stored = (installationId: number) => listInstallationRepositories(db(), installationId);
  const api: RepositoryFixture = { id: 11, name: "api" };

  test("installation.created on every repository stores each one, owner from the full name, archived and default branch unknown", async () => {
    await install(801, "all", [repository(11, "acme/api"), repository(12, "acme/web", false)]);
    expect(await stored(801)).toEqual([
      { id: 11, owner: "acme", name: "api", fullName: "acme/api", private: true, archived: null, defaultBranch: null },
      { id: 12, owner: "acme", name: "web", fullName: "acme/web", private: false, archived: null, defaultBranch: null },
    ]);
  });

  test.each(["new_permissions_accepted", "unsuspend"] as const)("installation.%s stores the repositories it carries, keeping the others", async (action) => {
    await install(812, "selected", [repository(11, "acme/api")]);
    await send("installation", installationEvent(action, { id: 812, repositorySelection: "selected", updatedAt: "2026-11-02T00:00:00Z" }, [repository(12, "acme/web")]));
    expect((await stored(812)).map((r) => r.fullName)).toEqual(["acme/api", "acme/web"]);
  });

  test("repository.created adds the repository to an installation on every repository, with every detail", async () => {
    await install(802, "all");
    await send("repository", repositoryEvent("created", 802, { ...api, defaultBranch: "trunk" }));
    expect(await stored(802)).toEqual([
      { id: 11, owner: "acme", name: "api", fullName: "acme/api", private: true, archived: false, defaultBranch: "trunk" },
    ]);
  });

  test("repository.created does not add the repository to an installation on selected repositories", async () => {
    await install(803, "selected", [repository(12, "acme/web")]);
    await send("repository", repositoryEvent("created", 803, api));
    expect((await stored(803)).map((r) => r.id)).toEqual([12]);
  });

  const updates: Array<[RepositoryAction, RepositoryFixture, Record<string, unknown>]> = [
    ["renamed", { ...api, name: "api-v2" }, { name: "api-v2", fullName: "acme/api-v2" }],
    ["archived", { ...api, archived: true }, { archived: true }],
    ["unarchived", { ...api, archived: false }, { archived: false }],
    ["privatized", { ...api, private: true }, { private: true }],
    ["publicized", { ...api, private: false }, { private: false }],
    ["edited", { ...api, defaultBranch: "develop" }, { defaultBranch: "develop" }],
  ];
  test.each(updates)("repository.%s updates the stored repository in place", async (action, after, expected) => {
    // Public before it is privatized, private before anything else.
    await install(804, "selected", [repository(11, "acme/api", action !== "privatized"), repository(12, "acme/web")]);
    await send("repository", repositoryEvent(action, 804, after));
    const [first] = (await stored(804)).filter((r) => r.id === 11);
    expect(first).toMatchObject({ id: 11, owner: "acme", ...expected });
    expect(await countRows(db(), "installation_repositories")).toBe(2);
  });

  test("repository.deleted removes it; a redelivery changes nothing", async () => {
    await install(805, "all", [repository(11, "acme/api"), repository(12, "acme/web")]);
    await send("repository", repositoryEvent("deleted", 805, api), "del-1");
    expect((await stored(805)).map((r) => r.id)).toEqual([12]);
    const rows = await db()("installation_repositories").orderBy("repository_id");
    const tombstones = await db()("repository_tombstones");

    await send("repository", repositoryEvent("deleted", 805, api), "del-1");
    expect(await db()("installation_repositories").orderBy("repository_id")).toEqual(rows);
    expect(await db()("repository_tombstones")).toEqual(tombstones);
    expect(await countRows(db(), "webhook_deliveries")).toBe(2); // the installation and the deletion, once each
  });

  test("a redelivered repository.renamed changes nothing", async () => {
    await install(806, "all", [repository(11, "acme/api")]);
    await send("repository", repositoryEvent("renamed", 806, { ...api, name: "api-v2" }), "ren-1");
    await db()("installation_repositories").update({ name: "changed-since" });
    await send("repository", repositoryEvent("renamed", 806, { ...api, name: "api-v2" }), "ren-1");
    expect((await stored(806))[0].name).toBe("changed-since");
  });

  test("a deleted repository stays deleted after late installation_repositories.added, repository.renamed and installation.created", async () => {
    await install(807, "selected", [repository(11, "acme/api")]);
    await send("repository", repositoryEvent("deleted", 807, api));
    await send("installation_repositories", installationRepositoriesEvent("added", { id: 807 }, { added: [repository(11, "acme/api")] }));
    await send("repository", repositoryEvent("renamed", 807, { ...api, name: "api-v2" }));
    await install(808, "all", [repository(11, "acme/api")], OTHER);
    expect(await stored(807)).toEqual([]);
    expect(await stored(808)).toEqual([]);
  });

  test("repository.transferred to an account outside the installation removes it; the new owner's installation gains it", async () => {
    await install(809, "all", [repository(11, "acme/api"), repository(12, "acme/web")]);
    await install(810, "all", [], OTHER);
    // GitHub sends the transfer to both installations: each payload shows the repository's new owner.
    const moved = { ...api, owner: OTHER };
    await send("repository", repositoryEvent("transferred", 809, moved, { owner: { from: { organization: ORG } } }));
    await send("repository", repositoryEvent("transferred", 810, moved, { owner: { from: { organization: ORG } } }));
    expect((await stored(809)).map((r) => r.fullName)).toEqual(["acme/web"]);
    expect(await stored(810)).toEqual([
      { id: 11, owner: "globex", name: "api", fullName: "globex/api", private: true, archived: false, defaultBranch: "main" },
    ]);
  });

  test("a repository transferred away stays away from the old installation after late repository.edited and installation_repositories.added", async () => {
    await install(813, "all", [repository(11, "acme/api"), repository(12, "acme/web")]);
    await send("repository", repositoryEvent("transferred", 813, { ...api, owner: OTHER }, { owner: { from: { organization: ORG } } }));
    expect(await db()("repository_departures").select("installation_id", "repository_id")).toEqual([{ installation_id: expect.anything(), repository_id: expect.anything() }]);

    // Sent before the transfer, delivered after it: the repository as acme's.
    await send("repository", repositoryEvent("edited", 813, { ...api, defaultBranch: "develop" }));
    await send("installation_repositories", installationRepositoriesEvent("added", { id: 813 }, { added: [repository(11, "acme/api")] }));

    expect((await stored(813)).map((r) => r.fullName)).toEqual(["acme/web"]);
  });

  test("a repository transferred away and back is the installation's again", async () => {
    await install(814, "all", [repository(11, "acme/api")]);
    const from = (organization: AccountFixture) => ({ owner: { from: { organization } } });
    await send("repository", repositoryEvent("transferred", 814, { ...api, owner: OTHER }, from(ORG)));
    expect(await stored(814)).toEqual([]);

    await send("repository", repositoryEvent("transferred", 814, api, from(OTHER)));

    expect((await stored(814)).map((r) => r.fullName)).toEqual(["acme/api"]);
    expect(await countRows(db(), "repository_departures")).toBe(0);
    await send("repository", repositoryEvent("renamed", 814, { ...api, name: "api-v2" }));
    expect((await stored(814)).map((r) => r.fullName)).toEqual(["acme/api-v2"]);
  });

  test("a repository event for an unknown installation stores nothing", async () => {
    await send("repository", repositoryEvent("created", 899, api));
    expect(await countRows(db(), "installation_repositories")).toBe(0);
  });

  test("installation_repositories.added on every repository adds the repositories without dropping the others", async () => {
    await install(811, "selected", [repository(11, "acme/api")]);
    await send(
      "installation_repositories",
      installationRepositoriesEvent("added", { id: 811, repositorySelection: "all" }, { added: [repository(12, "acme/web")] }),
    );
    expect((await stored(811)).map((r) => r.id)).toEqual([11, 12]);
  });
});
