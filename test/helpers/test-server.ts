import { createHmac, randomUUID } from "node:crypto";
import type { Knex } from "knex";
import pino from "pino";
import { migrateLatest } from "../../src/db/migrate";
import { createDeps, Deps } from "../../src/deps";
import { startServer } from "../../src/server";
import { testConfig, TEST_WEBHOOK_SECRET } from "./config";
import { createTestDatabase, databaseKinds, TestDatabase, truncateAll } from "./databases";
import { TestOctokit } from "./test-octokit";

export interface WebhookOptions {
  deliveryId?: string;
  /** Override the signature header; null leaves it out. */
  signature?: string | null;
  secret?: string;
}

export interface TestServer {
  url: string;
  deps: Deps;
  sendWebhook(event: string, payload: unknown, options?: WebhookOptions): Promise<Response>;
  close(): Promise<void>;
}

export function sign(body: string, secret = TEST_WEBHOOK_SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** The real server on a free loopback port: webhooks arrive as signed HTTP requests. */
export async function startTestServer(database: TestDatabase): Promise<TestServer> {
  const deps = createDeps(testConfig(database.config), { Octokit: TestOctokit, log: pino({ level: "silent" }) });
  await migrateLatest(deps.db);
  const running = await startServer(deps, 0, "127.0.0.1");
  return {
    url: running.url,
    deps,
    async sendWebhook(event, payload, options = {}) {
      const body = JSON.stringify(payload);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": options.deliveryId ?? randomUUID(),
        "user-agent": "GitHub-Hookshot/test",
      };
      const signature = options.signature === undefined ? sign(body, options.secret) : options.signature;
      if (signature !== null) headers["x-hub-signature-256"] = signature;
      return fetch(`${running.url}/api/github/webhooks`, { method: "POST", headers, body });
    },
    async close() {
      await running.close();
      await deps.close();
    },
  };
}

/**
 * Runs a describe block once per database against the real server: a fresh database and server
 * per run, tables emptied before every test. `db` is the server's own knex, for arranging and asserting.
 */
export function describeEachServer(title: string, body: (ctx: { server: () => TestServer; db: () => Knex }) => void): void {
  describe.each(databaseKinds())(`${title} on %s`, (kind) => {
    let database: TestDatabase;
    let server: TestServer;
    beforeAll(async () => {
      database = await createTestDatabase(kind);
      server = await startTestServer(database);
    });
    beforeEach(() => truncateAll(server.deps.db));
    afterAll(async () => {
      await server?.close();
      await database?.drop();
    });
    body({ server: () => server, db: () => server.deps.db });
  });
}
