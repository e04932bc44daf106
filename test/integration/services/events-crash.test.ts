import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import pino from "pino";
import type { Config } from "../../../src/config";
import { createKnex } from "../../../src/db/knex";
import { startOctoplex } from "../../../src/main";
import { listOutboxEvents } from "../../../src/repositories/outbox";
import type { EventWriterConfig } from "../../fakes/event-writer";
import { testEnv } from "../../helpers/config";
import { createTestDatabase, databaseKinds, TestDatabase } from "../../helpers/databases";
import { expectInOrderPerKey } from "../../helpers/outbox";
import { platformEnv, startPlatformReceiver, waitUntil } from "../../helpers/platform-receiver";
import { runAlone } from "../../helpers/run-alone";
import { TestOctokit } from "../../helpers/test-octokit";
import { tsChildArgs } from "../../helpers/ts-child";

runAlone();

const ROOT = resolve(__dirname, "../../..");

/** Runs test/fakes/event-writer.ts until it has committed `commits` transactions, then SIGKILLs it. */
async function writeEventsThenKill(config: EventWriterConfig, commits: number): Promise<{ reported: number }> {
  const child = spawn(process.execPath, tsChildArgs("test/fakes/event-writer.ts", JSON.stringify(config)), {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((done) => child.once("exit", (code, signal) => done(signal ?? code)));
  let reported = 0;
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      reported = (JSON.parse(line) as { events: number }).events;
      if (reported >= commits * 2) break;
    }
  } finally {
    child.kill("SIGKILL");
  }
  const how = await exited;
  if (how !== "SIGKILL") throw new Error(`the writer ended with ${String(how)} before it was killed: ${stderr}`);
  return { reported };
}

// A process dies with events still pending (the platform was down): nothing is lost, a fresh
// process delivers them all.
describe.each(databaseKinds())("events survive a killed process on %s", (kind) => {
  let cwd: string;
  let database: TestDatabase;
  let databaseConfig: Config["database"];

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), "octoplex-crash-"));
    database = await createTestDatabase(kind);
    // SQLite: where `npm start` in cwd finds it.
    databaseConfig = database.config.client === "sqlite" ? { client: "sqlite", filename: join(cwd, "data", "octoplex.sqlite") } : database.config;
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  test("a writer SIGKILLed while its events are pending: a fresh Octoplex (startOctoplex) delivers every committed event, in order per team", async () => {
    const receiver = await startPlatformReceiver();
    await receiver.down();
    let octoplex: Awaited<ReturnType<typeof startOctoplex>> | undefined;
    const db = createKnex(databaseConfig);
    try {
      const { reported } = await writeEventsThenKill({ database: databaseConfig, platformUrl: receiver.url, platformSecret: receiver.secret }, 60);

      const left = await listOutboxEvents(db);
      // Every transaction the writer saw commit is there (maybe one more it had no time to report).
      expect(left.length).toBeGreaterThanOrEqual(reported);
      expect(left.length % 2).toBe(0); // a change's events are all there or none
      expect(left.every((e) => e.status === "pending")).toBe(true);
      expect(left.some((e) => e.attempts > 0)).toBe(true); // it had been trying
      expect(receiver.received).toHaveLength(0);

      await receiver.up();
      const env = testEnv({ ...platformEnv(receiver), ...(databaseConfig.client === "postgres" ? { DATABASE_URL: databaseConfig.url } : {}) });
      octoplex = await startOctoplex(env, { port: 0, host: "127.0.0.1", Octokit: TestOctokit, log: pino({ level: "silent" }), cwd });

      // A claim the killed process held runs out within timeout + 5 s.
      await waitUntil(async () => (await listOutboxEvents(db)).every((e) => e.status === "delivered"), "every event delivered", 25_000, 100);

      const events = await listOutboxEvents(db);
      expect(events).toHaveLength(left.length);
      expect(new Set(receiver.accepted().map((r) => r.webhookId))).toEqual(new Set(events.map((e) => e.messageId)));
      expect(receiver.received.every((r) => r.verified === true)).toBe(true);
      expectInOrderPerKey(events, receiver);
    } finally {
      await octoplex?.stop();
      await db.destroy();
      await receiver.close();
    }
  }, 60_000);
});
