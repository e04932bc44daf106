import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommanderError } from "commander";
import { Team } from "../../../src/repositories/teams";
import { runCli, useMigratedCliTarget } from "../../helpers/cli";
import { testEnv } from "../../helpers/config";
import { databaseKinds, truncateAll } from "../../helpers/databases";
import { NOW, seedInstallation, seedLinks, seedTeams } from "../../helpers/factories";

const SEEDED_AT = NOW.toISOString();

describe.each(databaseKinds())("octoplex list commands on %s", (kind) => {
  const cli = useMigratedCliTarget(kind);
  let teams: Team[];
  const db = () => cli().db;

  beforeEach(async () => {
    await seedInstallation(db(), 11);
    await seedInstallation(db(), 12, {
      repositorySelection: "selected",
      suspendedAt: new Date("2026-11-15T08:00:00Z"),
      suspendedBy: "admin",
    });
    teams = await seedTeams(db(), 2);
    await seedLinks(db(), 11, teams);
    await seedLinks(db(), 12, teams.slice(1), 5002);
  });

  const json = (lines: string[]) => JSON.parse(lines.join("\n"));

  test("installations list --json prints every installation", async () => {
    const run = await cli().run(["installations", "list", "--json"]);

    expect(run.exitCode).toBe(0);
    expect(json(run.out)).toEqual([
      expect.objectContaining({
        id: 11,
        account: { id: 9012, login: "org-11", type: "Organization", avatarUrl: null },
        repositorySelection: "all",
        permissions: { contents: "write", metadata: "read" },
        suspendedAt: null,
        suspendedBy: null,
        createdAt: SEEDED_AT,
      }),
      expect.objectContaining({
        id: 12,
        account: expect.objectContaining({ login: "org-12" }),
        repositorySelection: "selected",
        suspendedAt: "2026-11-15T08:00:00.000Z",
        suspendedBy: "admin",
      }),
    ]);
  });

  test("installations list prints a table under a header line", async () => {
    const run = await cli().run(["installations", "list"]);

    expect(run.exitCode).toBe(0);
    expect(run.out).toHaveLength(3);
    expect(run.out[0]).toMatch(/^ID\s+ACCOUNT\s+TYPE\s+REPOSITORIES\s+SUSPENDED$/);
    expect(run.out[1].split(/\s+/)).toEqual(["11", "org-11", "Organization", "all", "-"]);
    expect(run.out[2].split(/\s+/)).toEqual(["12", "org-12", "Organization", "selected", "2026-11-15T08:00:00.000Z"]);
  });

  test("teams list --json prints every team, and the table has a header line", async () => {
    const jsonRun = await cli().run(["teams", "list", "--json"]);
    expect(json(jsonRun.out)).toEqual(teams.map((t, i) => ({ id: t.id, name: `team-${i + 1}`, createdAt: SEEDED_AT })));

    const table = await cli().run(["teams", "list"]);
    expect(table.out[0]).toMatch(/^ID\s+NAME\s+CREATED$/);
    expect(table.out.slice(1).map((l) => l.split(/\s+/))).toEqual(teams.map((t) => [String(t.id), t.name, SEEDED_AT]));
  });

  test("links list --team ID --json prints only that team's links", async () => {
    const run = await cli().run(["links", "list", "--team", String(teams[1].id), "--json"]);

    expect(run.exitCode).toBe(0);
    expect(json(run.out)).toEqual([
      { teamId: teams[1].id, installationId: 11, linkedBy: 5001, linkedAt: SEEDED_AT },
      { teamId: teams[1].id, installationId: 12, linkedBy: 5002, linkedAt: SEEDED_AT },
    ]);

    const table = await cli().run(["links", "list", "--team", String(teams[0].id)]);
    expect(table.out[0]).toMatch(/^TEAM\s+INSTALLATION\s+LINKED BY\s+LINKED AT$/);
    expect(table.out.slice(1).map((l) => l.split(/\s+/))).toEqual([[String(teams[0].id), "11", "5001", SEEDED_AT]]);
  });

  test("an empty table prints (none)", async () => {
    await truncateAll(db());
    expect((await cli().run(["links", "list"])).out).toEqual(["(none)"]);
  });
});

describe("octoplex links list --team with a non-number", () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), "octoplex-cli-"));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  test("fails as a usage error naming the option, before opening any database", async () => {
    // A Postgres database that does not exist: opening it would fail differently.
    const postgres = await runCli(
      ["links", "list", "--team", "abc", "--json"],
      testEnv({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/octoplex_never_created" }),
      cwd,
    );
    // SQLite would create <cwd>/data/octoplex.sqlite.
    const sqlite = await runCli(["links", "list", "--team", "abc"], testEnv(), cwd);

    for (const run of [postgres, sqlite]) {
      expect(run.error).toBeInstanceOf(CommanderError);
      expect(run.exitCode).toBe(1);
      expect(run.out).toEqual([]);
      expect(run.err).toEqual([expect.stringMatching(/^error: option '--team <id>' argument 'abc' is invalid\. .*positive integer/)]);
    }
    expect(existsSync(join(cwd, "data"))).toBe(false);
  });
});
