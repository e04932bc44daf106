import {
  addInstallationRepositories,
  listInstallationRepositories,
  removeInstallationRepositories,
} from "../../../src/repositories/installation-repositories";
import { describeEachDatabase } from "../../helpers/databases";
import { countRows, repositories, seedInstallation, storedRepository } from "../../helpers/factories";

describeEachDatabase("installation repositories repository", ({ db }) => {
  beforeEach(async () => {
    await seedInstallation(db(), 1, { repositorySelection: "selected" });
    await seedInstallation(db(), 2, { repositorySelection: "selected" });
  });

  test("addInstallationRepositories stores the repositories, listed by full name", async () => {
    await addInstallationRepositories(db(), 1, [
      { id: 2, fullName: "acme/web", private: false },
      { id: 1, fullName: "acme/api", private: true },
    ]);

    expect(await listInstallationRepositories(db(), 1)).toEqual([
      storedRepository(1, "acme/api", true),
      storedRepository(2, "acme/web", false),
    ]);
    expect(await listInstallationRepositories(db(), 2)).toEqual([]);
  });

  test("adding the same repositories twice keeps one row per repository", async () => {
    await addInstallationRepositories(db(), 1, repositories(3));
    await addInstallationRepositories(db(), 1, repositories(3));

    expect(await listInstallationRepositories(db(), 1)).toEqual(repositories(3));
    expect(await countRows(db(), "installation_repositories")).toBe(3);
  });

  test("adding a known repository under a new name renames it and updates its visibility", async () => {
    await addInstallationRepositories(db(), 1, [{ id: 7, fullName: "acme/old-name", private: true }]);
    await addInstallationRepositories(db(), 1, [{ id: 7, fullName: "acme/new-name", private: false }]);

    expect(await listInstallationRepositories(db(), 1)).toEqual([storedRepository(7, "acme/new-name", false)]);
  });

  test("the same repository id may belong to two installations independently", async () => {
    await addInstallationRepositories(db(), 1, [{ id: 7, fullName: "acme/api", private: true }]);
    await addInstallationRepositories(db(), 2, [{ id: 7, fullName: "acme/api", private: true }]);
    await removeInstallationRepositories(db(), 1, [7]);

    expect(await listInstallationRepositories(db(), 1)).toEqual([]);
    expect(await listInstallationRepositories(db(), 2)).toEqual([storedRepository(7, "acme/api", true)]);
  });

  test("removeInstallationRepositories removes only the given ids of that installation", async () => {
    await addInstallationRepositories(db(), 1, repositories(4));
    await addInstallationRepositories(db(), 2, repositories(2, { firstId: 100 }));

    await removeInstallationRepositories(db(), 1, [2, 4, 999]);

    expect((await listInstallationRepositories(db(), 1)).map((r) => r.id)).toEqual([1, 3]);
    expect(await listInstallationRepositories(db(), 2)).toEqual(repositories(2, { firstId: 100 }));
  });

  test("empty lists add and remove nothing", async () => {
    await addInstallationRepositories(db(), 1, repositories(2));
    await addInstallationRepositories(db(), 1, []);
    await removeInstallationRepositories(db(), 1, []);

    expect(await listInstallationRepositories(db(), 1)).toEqual(repositories(2));
  });

  test("1,234 repositories are added, renamed and removed in one call each (batched statements)", async () => {
    const many = repositories(1234);
    await addInstallationRepositories(db(), 1, many);
    expect(await listInstallationRepositories(db(), 1)).toEqual(many);

    const renamed = many.map((r) => ({ ...r, fullName: r.fullName.replace("acme/", "acme-renamed/") }));
    await addInstallationRepositories(db(), 1, renamed);
    expect(await listInstallationRepositories(db(), 1)).toEqual(renamed);

    const removedIds = many.slice(0, 1200).map((r) => r.id);
    await removeInstallationRepositories(db(), 1, removedIds);
    expect(await listInstallationRepositories(db(), 1)).toEqual(renamed.slice(1200));
  });

  test("repository ids above 2^31 round-trip as numbers", async () => {
    const big = repositories(2, { firstId: 3_000_000_000 });
    await addInstallationRepositories(db(), 1, big);

    expect(await listInstallationRepositories(db(), 1)).toEqual(big);
    await removeInstallationRepositories(db(), 1, [3_000_000_000]);
    expect((await listInstallationRepositories(db(), 1)).map((r) => r.id)).toEqual([3_000_000_001]);
  });
});
