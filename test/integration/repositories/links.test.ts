import { deleteLink, deleteLinksOfInstallation, insertLink, listLinks } from "../../../src/repositories/links";
import { describeEachDatabase } from "../../helpers/databases";
import { countRows, minutesAfterNow, NOW, seedInstallation, seedLinks, seedTeams } from "../../helpers/factories";

describeEachDatabase("links repository", ({ db }) => {
  const pairs = async (filter?: Parameters<typeof listLinks>[1]) =>
    (await listLinks(db(), filter)).map((l) => [l.teamId, l.installationId]);

  test("insertLink returns true for a new link and false when the same team links the same installation again", async () => {
    await seedInstallation(db(), 1);
    const [team] = await seedTeams(db(), 1);

    expect(await insertLink(db(), { teamId: team.id, installationId: 1, linkedBy: 5001, linkedAt: NOW })).toBe(true);
    expect(await insertLink(db(), { teamId: team.id, installationId: 1, linkedBy: 6002, linkedAt: minutesAfterNow(5) })).toBe(false);
  });

  test("insertLink keeps one row when the same team links the same installation twice, with the first linkedBy and linkedAt", async () => {
    await seedInstallation(db(), 1);
    const [team] = await seedTeams(db(), 1);
    await insertLink(db(), { teamId: team.id, installationId: 1, linkedBy: 5001, linkedAt: NOW });
    await insertLink(db(), { teamId: team.id, installationId: 1, linkedBy: 6002, linkedAt: minutesAfterNow(5) });

    expect(await listLinks(db())).toEqual([{ teamId: team.id, installationId: 1, linkedBy: 5001, linkedAt: NOW }]);
    expect(await countRows(db(), "team_installations")).toBe(1);
  });

  test("insertLink stores a link without a linking user", async () => {
    await seedInstallation(db(), 1);
    const [team] = await seedTeams(db(), 1);
    await insertLink(db(), { teamId: team.id, installationId: 1, linkedBy: null, linkedAt: NOW });

    expect(await listLinks(db())).toEqual([{ teamId: team.id, installationId: 1, linkedBy: null, linkedAt: NOW }]);
  });

  test("listLinks filters by team, by installation, and by both", async () => {
    await seedInstallation(db(), 1);
    await seedInstallation(db(), 2);
    const [a, b, c] = await seedTeams(db(), 3);
    await seedLinks(db(), 1, [a, b]);
    await seedLinks(db(), 2, [b, c]);

    expect(await pairs()).toEqual([[a.id, 1], [b.id, 1], [b.id, 2], [c.id, 2]]);
    expect(await pairs({ teamId: b.id })).toEqual([[b.id, 1], [b.id, 2]]);
    expect(await pairs({ installationId: 2 })).toEqual([[b.id, 2], [c.id, 2]]);
    expect(await pairs({ teamId: a.id, installationId: 2 })).toEqual([]);
    expect(await pairs({ teamId: c.id, installationId: 2 })).toEqual([[c.id, 2]]);
  });

  test("deleteLink removes only that pair and reports whether it existed", async () => {
    await seedInstallation(db(), 1);
    await seedInstallation(db(), 2);
    const [a, b] = await seedTeams(db(), 2);
    await seedLinks(db(), 1, [a, b]);
    await seedLinks(db(), 2, [a]);

    expect(await deleteLink(db(), a.id, 1)).toBe(true);
    expect(await deleteLink(db(), a.id, 1)).toBe(false);
    expect(await pairs()).toEqual([[a.id, 2], [b.id, 1]]);
  });

  test("deleteLinksOfInstallation returns the teams that lost the installation and leaves other installations' links", async () => {
    await seedInstallation(db(), 1);
    await seedInstallation(db(), 2);
    const teams = await seedTeams(db(), 4);
    await seedLinks(db(), 1, teams.slice(0, 3));
    await seedLinks(db(), 2, teams.slice(2));

    expect(await deleteLinksOfInstallation(db(), 1)).toEqual(teams.slice(0, 3).map((t) => t.id));
    expect(await pairs()).toEqual(teams.slice(2).map((t) => [t.id, 2]));
  });

  test("deleteLinksOfInstallation of an installation without links returns no teams", async () => {
    await seedInstallation(db(), 1);
    expect(await deleteLinksOfInstallation(db(), 1)).toEqual([]);
  });

  test("links to an installation id above 2^31 by a user id above 2^31 round-trip as numbers", async () => {
    await seedInstallation(db(), 3_000_000_000);
    const [team] = await seedTeams(db(), 1);
    await insertLink(db(), { teamId: team.id, installationId: 3_000_000_000, linkedBy: 4_000_000_000, linkedAt: NOW });

    expect(await listLinks(db(), { installationId: 3_000_000_000 })).toEqual([
      { teamId: team.id, installationId: 3_000_000_000, linkedBy: 4_000_000_000, linkedAt: NOW },
    ]);
    expect(await deleteLinksOfInstallation(db(), 3_000_000_000)).toEqual([team.id]);
  });
});
