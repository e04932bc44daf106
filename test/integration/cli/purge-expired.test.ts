import { useMigratedCliTarget } from "../../helpers/cli";
import { databaseKinds } from "../../helpers/databases";
import { ONLY_LIVE_ROWS, remainingExpiringRows, seedExpiringRows } from "../../helpers/expiring-rows";

describe.each(databaseKinds())("octoplex purge-expired on %s", (kind) => {
  const cli = useMigratedCliTarget(kind);

  test("purge-expired deletes the expired sign-in states, sessions, rate-limit windows and events delivered beyond the retention with their payloads, keeps the live ones (failed events too), and prints the counts", async () => {
    // The CLI's clock is the real one: rows a minute either side of now.
    await seedExpiringRows(cli().db, new Date());

    const run = await cli().run(["purge-expired"]);

    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual([
      "Deleted 1 sign-in state(s), 1 session(s) and 1 rate-limit window(s) that had expired",
      "Deleted 1 delivered event(s) older than EVENT_RETENTION and 1 GitHub payload(s) no event uses",
      "Deleted 1 audit row(s) of routed GitHub events older than EVENT_RETENTION",
    ]);
    expect(await remainingExpiringRows(cli().db)).toEqual(ONLY_LIVE_ROWS);
  });
});
