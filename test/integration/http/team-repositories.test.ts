import fc from "fast-check";
import { addInstallationRepositories, removeInstallationRepositories, StoredRepository } from "../../../src/repositories/installation-repositories";
import { writeScope } from "../../../src/repositories/link-scopes";
import { insertLink } from "../../../src/repositories/links";
import type { TeamRepository } from "../../../src/repositories/team-repositories";
import { installationRepositoriesEvent, repository } from "../../fixtures/payloads";
import type { Browser } from "../../helpers/browser";
import { describeEachE2E } from "../../helpers/e2e";
import { NOW, repositories, seedInstallation, storedRepository } from "../../helpers/factories";
import { expectError } from "../../helpers/http-expect";
import { ALICE, BOB } from "../../helpers/users";

// The answer's JSON has the repository layer's shape: every field is a string, number, boolean or null.
type RepositoryJson = TeamRepository;
interface Page {
  repositories: RepositoryJson[];
  nextCursor: string | null;
}

const INSTALLATION_A = 71001;
const INSTALLATION_B = 71002;

describeEachE2E("team repositories", ({ e2e }) => {
  let bob: Browser;
  let teamId: number;

  const get = (browser: Browser, query = "", team = teamId) => browser.json("GET", e2e().url(`/api/teams/${team}/repositories${query}`));
  const page = async (query = "", browser = bob): Promise<Page> => {
    const hop = await get(browser, query);
    expect(hop.status).toBe(200);
    return hop.body as Page;
  };
  /** Every page from the first, following nextCursor. */
  const walk = async (query: string, between: () => Promise<void> = async () => {}): Promise<RepositoryJson[]> => {
    const seen: RepositoryJson[] = [];
    let cursor: string | null = null;
    do {
      const p: Page = await page(`?${query}${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...p.repositories);
      cursor = p.nextCursor;
      await between();
    } while (cursor);
    return seen;
  };
  const key = (r: { installationId: number; id: number }) => `${r.installationId}:${r.id}`;
  const seed = async (installationId: number, repos: StoredRepository[], scope: "all" | number[] = "all", team = teamId) => {
    await seedInstallation(e2e().db, installationId);
    await addInstallationRepositories(e2e().db, installationId, repos);
    await insertLink(e2e().db, { teamId: team, installationId, linkedBy: BOB.id, linkedAt: NOW });
    if (scope !== "all") await writeScope(e2e().db, team, installationId, scope);
  };

  beforeEach(async () => {
    bob = await e2e().signIn(BOB);
    teamId = ((await bob.json("POST", e2e().url("/api/teams"), { name: "Team B" })).body as { id: number }).id;
  });

  test("GET /api/teams/:teamId/repositories lists every repository of an 'all' link, with its installation", async () => {
    await seed(INSTALLATION_A, [{ ...storedRepository(11, "acme/widgets", true), archived: true, defaultBranch: "trunk" }, storedRepository(12, "acme/gadgets", false)]);
    await addInstallationRepositories(e2e().db, 71999, []); // no link, nothing listed
    expect(await page()).toEqual({
      repositories: [
        { id: 11, owner: "acme", name: "widgets", fullName: "acme/widgets", private: true, archived: true, defaultBranch: "trunk", installationId: INSTALLATION_A },
        { id: 12, owner: "acme", name: "gadgets", fullName: "acme/gadgets", private: false, archived: false, defaultBranch: null, installationId: INSTALLATION_A },
      ],
      nextCursor: null,
    });
  });

  test("GET …/repositories lists only the listed repositories of a list scope, and merges two installations in one stable order", async () => {
    await seed(INSTALLATION_B, repositories(3, { firstId: 1, owner: "beta" }));
    await seed(INSTALLATION_A, repositories(5, { firstId: 100, owner: "acme" }), [104, 101]);
    const listed = (await page()).repositories.map(key);
    expect(listed).toEqual([`${INSTALLATION_A}:101`, `${INSTALLATION_A}:104`, `${INSTALLATION_B}:1`, `${INSTALLATION_B}:2`, `${INSTALLATION_B}:3`]);
    expect((await page()).repositories.map(key)).toEqual(listed);
  });

  test("GET …/repositories leaves out a suspended installation's repositories", async () => {
    await seed(INSTALLATION_A, repositories(2, { firstId: 1 }));
    await seed(INSTALLATION_B, repositories(2, { firstId: 10 }));
    await seedInstallation(e2e().db, INSTALLATION_B, { suspendedAt: NOW, suspendedBy: "octocat" });
    expect((await page()).repositories.map((r) => r.id)).toEqual([1, 2]);
  });

  test("GET …/repositories?q= matches a case-insensitive substring of the full name, % and _ literally", async () => {
    await seed(INSTALLATION_A, [
      storedRepository(1, "Acme/Web-App"),
      storedRepository(2, "acme/api"),
      storedRepository(3, "acme/100%_done"),
      storedRepository(4, "acme/100x-done"),
      storedRepository(5, "other/webby"),
    ]);
    const names = async (q: string) => (await page(`?q=${encodeURIComponent(q)}`)).repositories.map((r) => r.fullName);
    expect(await names("WEB")).toEqual(["Acme/Web-App", "other/webby"]);
    expect(await names("acme/")).toEqual(["Acme/Web-App", "acme/api", "acme/100%_done", "acme/100x-done"]);
    expect(await names("%")).toEqual(["acme/100%_done"]);
    expect(await names("0_d")).toEqual([]);
    expect(await names("%_")).toEqual(["acme/100%_done"]);
    expect(await names("nothing")).toEqual([]);
  });

  test("GET …/repositories?installationId= lists that installation's repositories only; an installation not linked to the team gives none", async () => {
    await seed(INSTALLATION_A, repositories(2, { firstId: 1 }));
    await seed(INSTALLATION_B, repositories(2, { firstId: 10 }));
    expect((await page(`?installationId=${INSTALLATION_B}`)).repositories.map(key)).toEqual([`${INSTALLATION_B}:10`, `${INSTALLATION_B}:11`]);
    expect(await page("?installationId=71999")).toEqual({ repositories: [], nextCursor: null });
  });

  test("GET …/repositories pages walk every repository exactly once, stable while repositories are added between pages", async () => {
    await seed(INSTALLATION_A, repositories(7, { firstId: 1 }));
    await seed(INSTALLATION_B, repositories(6, { firstId: 50 }));
    const all = await walk("limit=1");
    expect(all.map(key)).toEqual((await page("?limit=100")).repositories.map(key));
    expect(all).toHaveLength(13);

    let added = 1000;
    // A repository added before the reader's position is not seen; one after it is, once.
    const seen = await walk("limit=4", async () => {
      await addInstallationRepositories(e2e().db, INSTALLATION_A, [storedRepository(added++, `acme/new-${added}`)]);
    });
    const keys = seen.map(key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(seen.filter((r) => r.id < 1000).map(key)).toEqual(all.map(key));
    expect(seen.some((r) => r.id >= 1000)).toBe(true);
  });

  test("GET …/repositories pages of any size over any repositories: each exactly once, in order (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { maxLength: 40 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        async (idsA, idsB, limit) => {
          await e2e().db("team_installations").where({ team_id: teamId }).delete();
          await e2e().db("installation_repositories").whereIn("installation_id", [INSTALLATION_A, INSTALLATION_B]).delete();
          await seed(INSTALLATION_A, idsA.map((id) => storedRepository(id, `acme/r${id}`)));
          await seed(INSTALLATION_B, idsB.map((id) => storedRepository(id, `beta/r${id}`)), idsB.filter((id) => id % 2 === 0));
          const expected = [
            ...[...idsA].sort((a, b) => a - b).map((id) => `${INSTALLATION_A}:${id}`),
            ...idsB.filter((id) => id % 2 === 0).sort((a, b) => a - b).map((id) => `${INSTALLATION_B}:${id}`),
          ];
          expect((await walk(`limit=${limit}`)).map(key)).toEqual(expected);
        },
      ),
      { numRuns: 8 },
    );
  });

  test("GET …/repositories: a repository removed from its installation leaves every team's list", async () => {
    await seed(INSTALLATION_A, repositories(3, { firstId: 1 }), [1, 2]);
    const other = ((await bob.json("POST", e2e().url("/api/teams"), { name: "Other" })).body as { id: number }).id;
    await insertLink(e2e().db, { teamId: other, installationId: INSTALLATION_A, linkedBy: BOB.id, linkedAt: NOW });
    await removeInstallationRepositories(e2e().db, INSTALLATION_A, [2]);
    expect((await page()).repositories.map((r) => r.id)).toEqual([1]);
    const otherPage = (await get(bob, "", other)).body as Page;
    expect(otherPage.repositories.map((r) => r.id)).toEqual([1, 3]);

    // GitHub's installation_repositories webhook does the same.
    const payload = installationRepositoriesEvent("removed", { id: INSTALLATION_A }, { removed: [repository(1, "acme/repo-000001")] });
    expect((await e2e().server.sendWebhook("installation_repositories", payload)).status).toBe(200);
    expect(await page()).toEqual({ repositories: [], nextCursor: null });
    expect(((await get(bob, "", other)).body as Page).repositories.map((r) => r.id)).toEqual([3]);
  });

  test("GET …/repositories rejects a caller without access: a member of another team gets 404", async () => {
    await seed(INSTALLATION_A, repositories(2));
    const alice = await e2e().signIn(ALICE);
    expectError(await get(alice), 404, "not_found");
  });

  test("GET …/repositories answers 400 for a malformed cursor, limit, installationId or q", async () => {
    await seed(INSTALLATION_A, repositories(2));
    const forged = Buffer.from("repos:1:x").toString("base64url");
    for (const query of ["?cursor=%21%21", `?cursor=${forged}`, "?cursor=", "?limit=0", "?limit=101", "?limit=abc", "?installationId=-1", "?installationId=0", "?q=%00", `?q=${"a".repeat(101)}`, "?other=1"]) {
      expectError(await get(bob, query), 400, "invalid_input");
    }
  });
});
