import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { migrateLatest } from "../../src/db/migrate";
import { listOutboxEvents } from "../../src/repositories/outbox";
import { createEventDispatcher } from "../../src/services/events/event-dispatcher";
import { createEventRecorder } from "../../src/services/events/platform-events";
import { createCliTarget, CliTarget } from "../helpers/cli";
import { databaseKinds, truncateAll } from "../helpers/databases";
import { PlatformReceiver, startPlatformReceiver } from "../helpers/platform-receiver";

/** A platform URL that answers every request with `status` and a Location pointing at `location`. */
async function startRedirector(status: number, location: string): Promise<{ url: string; hits: number; close(): Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on("end", () => res.writeHead(status, { location }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/octoplex/events`,
    get hits() {
      return hits;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The signed body is for PLATFORM_WEBHOOK_URL only: a redirect would hand it (and the platform's
 * trust in it) to whatever address the answer names, and count it as delivered.
 */
describe.each(databaseKinds())("an event to a platform URL that answers with a redirect, on %s", (kind) => {
  let target: CliTarget;
  let elsewhere: PlatformReceiver;

  beforeAll(async () => {
    target = await createCliTarget(kind);
    await migrateLatest(target.db);
  });
  beforeEach(async () => {
    await truncateAll(target.db);
    elsewhere = await startPlatformReceiver();
  });
  afterEach(() => elsewhere?.close());
  afterAll(() => target?.close());

  test.each([301, 302, 303, 307, 308])("HTTP %i is a failed attempt: the redirect target receives nothing and the event stays pending with the error recorded", async (status) => {
    const redirector = await startRedirector(status, elsewhere.url);
    try {
      await target.db.transaction((trx) =>
        createEventRecorder({ now: () => new Date(), retryForMs: 60_000 }).record(trx, [
          { type: "team.installation.linked", teamId: 1, subject: "installation:101", data: { teamId: 1, installationId: 101, linkedBy: 5001 } },
        ]),
      );
      const dispatcher = createEventDispatcher({
        db: target.db,
        now: () => new Date(),
        log: pino({ level: "silent" }),
        url: redirector.url,
        secret: elsewhere.secret,
        timeoutMs: 2_000,
        backoffBaseMs: 20,
        backoffCapMs: 100,
      });

      expect(await dispatcher.dispatchDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });

      expect(redirector.hits).toBe(1);
      expect(elsewhere.received).toEqual([]);
      const [event] = await listOutboxEvents(target.db);
      expect({ status: event.status, attempts: event.attempts, lastError: event.lastError }).toEqual({
        status: "pending",
        attempts: 1,
        lastError: expect.stringContaining(String(status)),
      });
    } finally {
      await redirector.close();
    }
  });
});
