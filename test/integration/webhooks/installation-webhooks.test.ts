import { listAuditEvents } from "../../../src/repositories/audit-events";
import { listInstallationRepositories } from "../../../src/repositories/installation-repositories";
import { findInstallation, listInstallations } from "../../../src/repositories/installations";
import { listLinks } from "../../../src/repositories/links";
import { listTeams } from "../../../src/repositories/teams";
import {
  authorizationRevokedEvent,
  installationEvent,
  installationRepositoriesEvent,
  installationTargetRenamedEvent,
  ORG,
  repository,
  USER,
} from "../../fixtures/payloads";
import { countRows, seedInstallation, seedLinks, seedTeams, storedRepository } from "../../helpers/factories";
import { describeEachServer } from "../../helpers/test-server";

describeEachServer("installation webhooks over HTTP", ({ server, db }) => {
  async function rowCounts() {
    const tables = ["installations", "installation_repositories", "team_installations", "webhook_deliveries", "audit_events"];
    const counts: Record<string, number> = {};
    for (const t of tables) counts[t] = await countRows(db(), t);
    return counts;
  }

  test("installation.created stores the installation and its selected repositories", async () => {
    const payload = installationEvent("created", { id: 101, repositorySelection: "selected" }, [
      repository(1, "acme/api"),
      repository(2, "acme/web", false),
    ]);
    const res = await server().sendWebhook("installation", payload);
    expect(res.status).toBe(200);

    const installation = await findInstallation(db(), 101);
    expect(installation).toMatchObject({
      id: 101,
      account: { id: ORG.id, login: "acme", type: "Organization", avatarUrl: expect.stringContaining("9001") },
      targetType: "Organization",
      repositorySelection: "selected",
      permissions: { administration: "write", contents: "write", metadata: "read", members: "read" },
      events: ["installation_target"],
      suspendedAt: null,
    });
    expect(await listInstallationRepositories(db(), 101)).toEqual([
      storedRepository(1, "acme/api", true),
      storedRepository(2, "acme/web", false),
    ]);
  });

  test("a redelivery of the same delivery id changes nothing", async () => {
    const payload = installationEvent("created", { id: 102 });
    expect((await server().sendWebhook("installation", payload, { deliveryId: "d-1" })).status).toBe(200);
    const before = await rowCounts();
    await db()("installations").where({ id: 102 }).update({ account_login: "changed-since" });

    expect((await server().sendWebhook("installation", payload, { deliveryId: "d-1" })).status).toBe(200);
    expect(await rowCounts()).toEqual(before);
    expect((await findInstallation(db(), 102))?.account.login).toBe("changed-since");
  });

  test("a bad signature gets 401 and writes nothing", async () => {
    const res = await server().sendWebhook("installation", installationEvent("created", { id: 103 }), { secret: "not-the-secret" });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "unauthenticated", message: expect.stringMatching(/does not match/) } });
    expect(await rowCounts()).toMatchObject({ installations: 0, webhook_deliveries: 0 });
  });

  test("a missing signature gets 401 and writes nothing", async () => {
    const res = await server().sendWebhook("installation", installationEvent("created", { id: 104 }), { signature: null });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthenticated");
    expect(await rowCounts()).toMatchObject({ installations: 0, webhook_deliveries: 0 });
  });

  test("installation.deleted of an installation linked to 3 teams removes those 3 links and nothing else", async () => {
    await seedInstallation(db(), 201);
    await seedInstallation(db(), 202);
    const teams = await seedTeams(db(), 4);
    await seedLinks(db(), 201, teams.slice(0, 3));
    await seedLinks(db(), 202, teams.slice(1, 4));

    const res = await server().sendWebhook("installation", installationEvent("deleted", { id: 201 }));
    expect(res.status).toBe(200);

    expect(await findInstallation(db(), 201)).toBeUndefined();
    expect(await findInstallation(db(), 202)).toBeDefined();
    expect(await listTeams(db())).toHaveLength(4);
    expect((await listLinks(db())).map((l) => [l.teamId, l.installationId])).toEqual(
      teams.slice(1, 4).map((t) => [t.id, 202]),
    );
    const audit = await listAuditEvents(db(), { installationId: 201 });
    expect(audit.map((a) => [a.teamId, a.action, a.data.reason]).sort()).toEqual(
      teams.slice(0, 3).map((t) => [t.id, "team.installation.unlinked", "installation_deleted"]).sort(),
    );
  });

  test("a deleted that arrives before its created leaves no installation, and the late created does not resurrect it", async () => {
    expect((await server().sendWebhook("installation", installationEvent("deleted", { id: 301 }))).status).toBe(200);
    expect((await server().sendWebhook("installation", installationEvent("created", { id: 301 }))).status).toBe(200);
    expect(await findInstallation(db(), 301)).toBeUndefined();
    expect(await listInstallations(db())).toEqual([]);

    // Other events for it are ignored too.
    await server().sendWebhook("installation", installationEvent("suspend", { id: 301, suspendedBy: "admin" }));
    expect(await listInstallations(db())).toEqual([]);
  });

  test("installation.suspend and unsuspend set and clear suspended_at", async () => {
    await server().sendWebhook("installation", installationEvent("created", { id: 401 }));
    const teams = await seedTeams(db(), 1);
    await seedLinks(db(), 401, teams);

    await server().sendWebhook(
      "installation",
      installationEvent("suspend", { id: 401, suspendedAt: "2026-11-02T09:00:00Z", suspendedBy: "admin", updatedAt: "2026-11-02T09:00:00Z" }),
    );
    expect(await findInstallation(db(), 401)).toMatchObject({
      suspendedAt: new Date("2026-11-02T09:00:00Z"),
      suspendedBy: "admin",
    });

    await server().sendWebhook("installation", installationEvent("unsuspend", { id: 401, updatedAt: "2026-11-03T09:00:00Z" }));
    expect(await findInstallation(db(), 401)).toMatchObject({ suspendedAt: null, suspendedBy: null });
    expect((await listAuditEvents(db(), { teamId: teams[0].id })).map((a) => a.action)).toEqual([
      "installation.unsuspended",
      "installation.suspended",
    ]);
  });

  test("installation.new_permissions_accepted stores the new permissions", async () => {
    await server().sendWebhook("installation", installationEvent("created", { id: 501, permissions: { metadata: "read" } }));
    await server().sendWebhook(
      "installation",
      installationEvent("new_permissions_accepted", {
        id: 501,
        permissions: { metadata: "read", contents: "write" },
        updatedAt: "2026-11-05T00:00:00Z",
      }),
    );
    expect((await findInstallation(db(), 501))?.permissions).toEqual({ metadata: "read", contents: "write" });
  });

  test("an older snapshot that arrives late does not overwrite a newer one", async () => {
    await server().sendWebhook(
      "installation",
      installationEvent("new_permissions_accepted", { id: 502, permissions: { contents: "write" }, updatedAt: "2026-11-05T00:00:00Z" }),
    );
    await server().sendWebhook("installation", installationEvent("created", { id: 502, permissions: { contents: "read" } }));
    expect((await findInstallation(db(), 502))?.permissions).toEqual({ contents: "write" });
  });

  test("installation_repositories.added and removed keep the selected repositories", async () => {
    await server().sendWebhook(
      "installation",
      installationEvent("created", { id: 601, repositorySelection: "selected" }, [repository(1, "acme/api")]),
    );
    await server().sendWebhook(
      "installation_repositories",
      installationRepositoriesEvent("added", { id: 601 }, { added: [repository(2, "acme/web"), repository(3, "acme/docs")] }),
    );
    await server().sendWebhook(
      "installation_repositories",
      installationRepositoriesEvent("removed", { id: 601 }, { removed: [repository(1, "acme/api")] }),
    );
    expect((await listInstallationRepositories(db(), 601)).map((r) => r.fullName)).toEqual(["acme/docs", "acme/web"]);
  });

  test("installation_target.renamed stores the account's new login", async () => {
    await server().sendWebhook("installation", installationEvent("created", { id: 701 }));
    const res = await server().sendWebhook(
      "installation_target",
      installationTargetRenamedEvent(701, { ...ORG, login: "acme-renamed" }, "acme"),
    );
    expect(res.status).toBe(200);
    expect((await findInstallation(db(), 701))?.account.login).toBe("acme-renamed");
  });

  test("github_app_authorization.revoked deletes the user's tokens and sessions", async () => {
    const now = new Date().toISOString();
    for (const id of [USER.id, 6002]) {
      await db()("github_users").insert({ id, login: `u${id}`, created_at: now, updated_at: now });
      await db()("user_tokens").insert({
        github_user_id: id,
        key_id: "k1",
        access_token_encrypted: "k1:iv:tag:ct",
        created_at: now,
        updated_at: now,
      });
      await db()("sessions").insert({ id_hash: `h${id}`, github_user_id: id, created_at: now, expires_at: now });
    }
    const res = await server().sendWebhook("github_app_authorization", authorizationRevokedEvent(USER.id));
    expect(res.status).toBe(200);
    expect((await db()("user_tokens").select("github_user_id")).map((r) => Number(r.github_user_id))).toEqual([6002]);
    expect((await db()("sessions").select("github_user_id")).map((r) => Number(r.github_user_id))).toEqual([6002]);
  });
});
