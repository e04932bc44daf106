import { useMigratedCliTarget } from "../../helpers/cli";
import { databaseKinds } from "../../helpers/databases";
import { ONLY_LIVE_ROWS, remainingExpiringRows, seedExpiringRows } from "../../helpers/expiring-rows";

describe.each(databaseKinds())("octoplex purge-expired on %s", (kind) => {
  const cli = useMigratedCliTarget(kind);

  test("purge-expired deletes the expired sign-in states, sessions and rate-limit windows, keeps the live ones, and prints the counts", async () => {
    // The CLI's clock is the real one: rows a minute either side of now.
    await seedExpiringRows(cli().db, new Date());

    const run = await cli().run(["purge-expired"]);

    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual(["Deleted 1 sign-in state(s), 1 session(s) and 1 rate-limit window(s) that had expired"]);
    expect(await remainingExpiringRows(cli().db)).toEqual(ONLY_LIVE_ROWS);
  });
});
