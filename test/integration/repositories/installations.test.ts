import { addInstallationRepositories, listInstallationRepositories } from "../../../src/repositories/installation-repositories";
import {
  addTombstone,
  deleteInstallationRow,
  findInstallation,
  isTombstoned,
  listInstallations,
  renameAccount,
  setSuspension,
  upsertInstallation,
} from "../../../src/repositories/installations";
import { listLinks } from "../../../src/repositories/links";
import { listTeams } from "../../../src/repositories/teams";
import { describeEachDatabase } from "../../helpers/databases";
import {
  countRows,
  minutesAfterNow,
  NOW,
  repositories,
  seedInstallation,
  seedLinks,
  seedTeams,
  snapshot,
} from "../../helpers/factories";

const OLDER = new Date("2026-11-01T10:00:00Z");
const NEWER = new Date("2026-11-05T10:00:00Z");

describeEachDatabase("installations repository", ({ db }) => {
  test("upsertInstallation inserts a new installation with every field mapped back", async () => {
    const s = snapshot(1, {
      account: { id: 70001, login: "acme", type: "Organization", avatarUrl: "https://avatars.example/70001" },
      repositorySelection: "selected",
      permissions: { contents: "read", issues: "write" },
      events: ["push", "pull_request"],
    });
    await upsertInstallation(db(), s, NOW);

    expect(await findInstallation(db(), 1)).toEqual({ ...s, createdAt: NOW, updatedAt: NOW });
    expect(await listInstallations(db())).toHaveLength(1);
  });

  test("findInstallation returns undefined for an unknown id", async () => {
    expect(await findInstallation(db(), 404)).toBeUndefined();
  });

  test("upsertInstallation of a newer snapshot updates the row in place and keeps createdAt", async () => {
    await seedInstallation(db(), 1, { githubUpdatedAt: OLDER });
    const newer = snapshot(1, {
      account: { id: snapshot(1).account.id, login: "acme-renamed", type: "Organization", avatarUrl: null },
      permissions: { contents: "write", metadata: "read", members: "read" },
      githubUpdatedAt: NEWER,
    });
    const later = minutesAfterNow(5);
    await upsertInstallation(db(), newer, later);

    expect(await listInstallations(db())).toEqual([{ ...newer, createdAt: NOW, updatedAt: later }]);
  });

  test("upsertInstallation ignores a snapshot older than the stored one", async () => {
    await seedInstallation(db(), 1, { githubUpdatedAt: NEWER, permissions: { contents: "write" } });
    const before = await findInstallation(db(), 1);

    await upsertInstallation(db(), snapshot(1, { githubUpdatedAt: OLDER, permissions: { contents: "read" } }), minutesAfterNow(5));

    expect(await findInstallation(db(), 1)).toEqual(before);
  });

  test("upsertInstallation applies a snapshot with the same github_updated_at as the stored one", async () => {
    await seedInstallation(db(), 1, { githubUpdatedAt: NEWER, permissions: { contents: "write" } });
    await upsertInstallation(db(), snapshot(1, { githubUpdatedAt: NEWER, permissions: { contents: "read" } }), minutesAfterNow(5));

    expect((await findInstallation(db(), 1))?.permissions).toEqual({ contents: "read" });
  });

  test("upsertInstallation with ignoreOrder applies an older snapshot (GitHub's current answer)", async () => {
    await seedInstallation(db(), 1, { githubUpdatedAt: NEWER, permissions: { contents: "write" } });
    const current = snapshot(1, { githubUpdatedAt: OLDER, permissions: { contents: "read" } });

    await upsertInstallation(db(), current, minutesAfterNow(5), { ignoreOrder: true });

    expect(await findInstallation(db(), 1)).toMatchObject({ permissions: { contents: "read" }, githubUpdatedAt: OLDER });
  });

  test("setSuspension sets and then clears suspendedAt and suspendedBy", async () => {
    await seedInstallation(db(), 1);
    const suspendedAt = new Date("2026-11-02T09:00:00.250Z");

    expect(await setSuspension(db(), 1, { suspendedAt, suspendedBy: "admin" }, minutesAfterNow(1))).toBe(1);
    expect(await findInstallation(db(), 1)).toMatchObject({ suspendedAt, suspendedBy: "admin", updatedAt: minutesAfterNow(1) });

    expect(await setSuspension(db(), 1, { suspendedAt: null, suspendedBy: null }, minutesAfterNow(2))).toBe(1);
    expect(await findInstallation(db(), 1)).toMatchObject({ suspendedAt: null, suspendedBy: null, updatedAt: minutesAfterNow(2) });
  });

  test("setSuspension of an unknown installation changes nothing and returns 0", async () => {
    expect(await setSuspension(db(), 404, { suspendedAt: NOW, suspendedBy: "admin" }, NOW)).toBe(0);
    expect(await listInstallations(db())).toEqual([]);
  });

  test("renameAccount renames every installation of that account id and no other", async () => {
    const sharedAccount = { id: 4242, login: "old-login", type: "Organization", avatarUrl: null };
    await seedInstallation(db(), 1, { account: sharedAccount });
    await seedInstallation(db(), 2, { account: sharedAccount });
    await seedInstallation(db(), 3, { account: { ...sharedAccount, id: 4343, login: "old-login-too" } });

    expect(await renameAccount(db(), 4242, "new-login", minutesAfterNow(1))).toBe(2);

    expect((await listInstallations(db())).map((i) => [i.id, i.account.login])).toEqual([
      [1, "new-login"],
      [2, "new-login"],
      [3, "old-login-too"],
    ]);
    expect((await findInstallation(db(), 1))?.updatedAt).toEqual(minutesAfterNow(1));
  });

  test("deleteInstallationRow cascades to its repositories and team links and leaves other installations alone", async () => {
    await seedInstallation(db(), 1, { repositorySelection: "selected" });
    await seedInstallation(db(), 2, { repositorySelection: "selected" });
    await addInstallationRepositories(db(), 1, repositories(3, { firstId: 10 }));
    await addInstallationRepositories(db(), 2, repositories(2, { firstId: 20 }));
    const teams = await seedTeams(db(), 3);
    await seedLinks(db(), 1, teams);
    await seedLinks(db(), 2, teams.slice(0, 1));

    expect(await deleteInstallationRow(db(), 1)).toBe(1);

    expect(await findInstallation(db(), 1)).toBeUndefined();
    expect(await listInstallationRepositories(db(), 1)).toEqual([]);
    expect(await listInstallationRepositories(db(), 2)).toEqual(repositories(2, { firstId: 20 }));
    expect((await listLinks(db())).map((l) => [l.teamId, l.installationId])).toEqual([[teams[0].id, 2]]);
    expect(await listTeams(db())).toHaveLength(3);
    expect(await countRows(db(), "installation_repositories")).toBe(2);
  });

  test("deleteInstallationRow of an unknown installation returns 0", async () => {
    expect(await deleteInstallationRow(db(), 404)).toBe(0);
  });

  test("addTombstone twice keeps one tombstone with the first deletion time", async () => {
    await addTombstone(db(), 1, NOW);
    await addTombstone(db(), 1, minutesAfterNow(10));

    const rows = await db()("installation_tombstones").select("installation_id", "deleted_at");
    expect(rows).toHaveLength(1);
    expect(new Date(rows[0].deleted_at)).toEqual(NOW);
  });

  test("isTombstoned is true for a tombstoned id only", async () => {
    await addTombstone(db(), 1, NOW);
    expect(await isTombstoned(db(), 1)).toBe(true);
    expect(await isTombstoned(db(), 2)).toBe(false);
  });

  test("ids above 2^31 round-trip as numbers", async () => {
    const id = 3_000_000_000;
    const s = snapshot(id, { account: { id: 3_000_000_001, login: "big", type: "User", avatarUrl: null } });
    await upsertInstallation(db(), s, NOW);
    await addTombstone(db(), 3_000_000_002, NOW);

    const found = await findInstallation(db(), id);
    expect(found?.id).toBe(id);
    expect(found?.account.id).toBe(3_000_000_001);
    expect(typeof found?.id).toBe("number");
    expect((await listInstallations(db())).map((i) => i.id)).toEqual([id]);
    expect(await isTombstoned(db(), 3_000_000_002)).toBe(true);
  });

  test("dates round-trip as Date objects equal to what was written, milliseconds included", async () => {
    const suspendedAt = new Date("2026-11-02T09:00:00.123Z");
    const githubUpdatedAt = new Date("2026-11-02T09:00:00.456Z");
    const writtenAt = new Date("2026-11-20T12:34:56.789Z");
    await upsertInstallation(db(), snapshot(1, { suspendedAt, suspendedBy: "admin", githubUpdatedAt }), writtenAt);

    const found = await findInstallation(db(), 1);
    for (const [value, expected] of [
      [found?.suspendedAt, suspendedAt],
      [found?.githubUpdatedAt, githubUpdatedAt],
      [found?.createdAt, writtenAt],
      [found?.updatedAt, writtenAt],
    ]) {
      expect(value).toBeInstanceOf(Date);
      expect(value).toEqual(expected);
    }
  });
});
