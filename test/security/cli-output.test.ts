import { createTeam } from "../../src/repositories/teams";
import { useMigratedCliTarget } from "../helpers/cli";
import { databaseKinds } from "../helpers/databases";
import { NOW, seedInstallation } from "../helpers/factories";

/**
 * Terminal escape injection through the CLI: a name stored by someone else (written before the
 * API refused control characters, by another tool, or straight into the database) is printed on
 * the operator's terminal. Human output shows control characters as visible escapes; --json
 * stays JSON that reads back to the very value.
 */

// Erase the line, go back to its start, retitle the terminal, ring the bell; then a C1 CSI.
const HOSTILE = "evil\u001b[2K\r\u001b]0;owned\u0007team\u009b2J";
const SHOWN = "evil\\x1b[2K\\x0d\\x1b]0;owned\\x07team\\u009b2J";
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe.each(databaseKinds())("CLI output of stored control characters on %s", (kind) => {
  const cli = useMigratedCliTarget(kind);
  const printed = (run: { out: string[]; err: string[] }) => [...run.out, ...run.err].join("\n");

  test("teams list shows a team name's escape sequences as visible escapes, with no ESC, BEL or CR byte", async () => {
    await createTeam(cli().db, HOSTILE, NOW);

    const run = await cli().run(["teams", "list"]);

    expect(run.exitCode).toBe(0);
    expect(printed(run)).not.toMatch(RAW_CONTROL);
    expect(run.out).toHaveLength(2);
    expect(run.out[1]).toContain(SHOWN);
  });

  test("teams list: a newline inside a name does not forge a row of its own", async () => {
    await createTeam(cli().db, "real\n99  forged-team  2026-01-01T00:00:00.000Z", NOW);

    const run = await cli().run(["teams", "list"]);

    expect(run.out).toHaveLength(2);
    expect(run.out[1]).toContain("real\\x0a99");
  });

  test("teams list --json stays JSON and reads back to the stored name, with no raw control byte", async () => {
    await createTeam(cli().db, HOSTILE, NOW);

    const run = await cli().run(["teams", "list", "--json"]);

    expect(printed(run)).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(run.out.join("\n"))).toEqual([expect.objectContaining({ name: HOSTILE })]);
  });

  test("installations list shows an account login's escape sequences as visible escapes", async () => {
    await seedInstallation(cli().db, 41, { account: { id: 9041, login: HOSTILE, type: "Organization", avatarUrl: null } });

    const run = await cli().run(["installations", "list"]);

    expect(run.exitCode).toBe(0);
    expect(printed(run)).not.toMatch(RAW_CONTROL);
    expect(run.out[1]).toContain(SHOWN);
  });

  test("a usage error echoing an argument shows its escape sequences as visible escapes", async () => {
    const run = await cli().run(["teams", "list", `--${HOSTILE}`]);

    expect(run.exitCode).not.toBe(0);
    expect(printed(run)).not.toMatch(RAW_CONTROL);
    expect(printed(run)).toContain("\\x1b[2K");
  });
});
