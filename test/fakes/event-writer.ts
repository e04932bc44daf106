// A process of its own that keeps making changes that record events for the platform, and keeps
// trying to deliver them, until it is killed: the crash-safety test SIGKILLs it mid-way.
// Run it as `node -r ./scripts/register-ts.js test/fakes/event-writer.ts '<json>'` (EventWriterConfig).
// Prints one JSON line per committed transaction: { "committed": n, "events": total }.
import pino from "pino";
import type { Config } from "../../src/config";
import { createDeps } from "../../src/deps";
import { migrateLatest } from "../../src/db/migrate";
import { startDispatchLoop } from "../../src/jobs/dispatch-loop";
import { createTeam } from "../../src/repositories/teams";
import { createEventDispatcher } from "../../src/services/events/event-dispatcher";
import { testConfig } from "../helpers/config";

export interface EventWriterConfig {
  database: Config["database"];
  platformUrl: string;
  platformSecret: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "") as EventWriterConfig;
  const log = pino({ level: "silent" });
  const deps = createDeps(testConfig(config.database, { PLATFORM_WEBHOOK_URL: config.platformUrl, PLATFORM_WEBHOOK_SECRET: config.platformSecret }), { log });
  await migrateLatest(deps.db);
  // Delivery attempts go on meanwhile (and fail: the receiver is down), with a short backoff.
  const dispatcher = createEventDispatcher({ db: deps.db, now: deps.now, log, url: config.platformUrl, secret: config.platformSecret, timeoutMs: 500, backoffBaseMs: 20, backoffCapMs: 200 });
  startDispatchLoop(dispatcher, log, 10);
  let total = 0;
  for (let n = 1; ; n++) {
    // A change and its events, one transaction: a new team, linked to an installation, and that installation's suspension.
    const written = await deps.db.transaction(async (trx) => {
      const team = await createTeam(trx, `crash-${n}`, deps.now());
      const teamId = (n % 3) + 1;
      await deps.services.events.record(trx, [
        { type: "team.installation.linked", teamId, subject: `installation:${n}`, data: { teamId, installationId: n, linkedBy: team.id } },
        { type: "installation.suspended", subject: `installation:${n % 2}`, data: { installationId: n % 2, teamIds: [teamId], suspendedBy: null } },
      ]);
      return 2;
    });
    total += written;
    process.stdout.write(`${JSON.stringify({ committed: n, events: total })}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
