import { createHmac, randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { migrateLatest } from "../../src/db/migrate";
import { createDeps, Deps, DepsOverrides } from "../../src/deps";
import { startServer } from "../../src/server";
import { CliTarget, createCliTarget } from "./cli";
import { testConfig, TEST_WEBHOOK_SECRET } from "./config";
import { createTestDatabase, databaseKinds, TestDatabase, truncateAll } from "./databases";
import { captureLogger } from "./log-capture";
import { TestOctokit } from "./test-octokit";

export interface WebhookOptions {
  deliveryId?: string;
  /** Override the signature header; null leaves it out. */
  signature?: string | null;
  secret?: string;
  /** The body as sent, instead of JSON.stringify(payload): GitHub's own spacing and escapes. */
  body?: string;
}

export interface TestServer {
  url: string;
  database: TestDatabase;
  deps: Deps;
  sendWebhook(event: string, payload: unknown, options?: WebhookOptions): Promise<Response>;
  close(): Promise<void>;
}

export function sign(body: string, secret = TEST_WEBHOOK_SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** A webhook delivery as GitHub sends it (signed, unless told otherwise) to the server at `url`. */
export function postWebhook(url: string, event: string, payload: unknown, options: WebhookOptions & { signal?: AbortSignal } = {}): Promise<Response> {
  const body = options.body ?? JSON.stringify(payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": event,
    "x-github-delivery": options.deliveryId ?? randomUUID(),
    "user-agent": "GitHub-Hookshot/test",
  };
  const signature = options.signature === undefined ? sign(body, options.secret) : options.signature;
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  return fetch(`${url}/api/github/webhooks`, { method: "POST", headers, body, signal: options.signal });
}

/**
 * The real server on a loopback port (`port` 0: a free one): webhooks arrive as signed HTTP
 * requests. A known port lets BASE_URL name the server itself (test/helpers/e2e.ts).
 * `overrides` replace the test defaults (TestOctokit: retries and throttling off), e.g.
 * `{ Octokit: ProbotOctokit }` for the app's own GitHub client.
 */
export async function startTestServer(
  database: TestDatabase,
  extraEnv: NodeJS.ProcessEnv = {},
  port = 0,
  overrides: DepsOverrides = {},
): Promise<TestServer> {
  const deps = createDeps(testConfig(database.config, extraEnv), { Octokit: TestOctokit, log: captureLogger(), ...overrides });
  await migrateLatest(deps.db);
  const running = await startServer(deps, port, "127.0.0.1");
  return {
    url: running.url,
    database,
    deps,
    sendWebhook: (event, payload, options) => postWebhook(running.url, event, payload, options),
    async close() {
      await running.close();
      await deps.close();
    },
  };
}

export interface ServerContext {
  server: () => TestServer;
  /** The server's own knex, for arranging and asserting. */
  db: () => Knex;
}

/**
 * Runs a describe block once per database against the real server: a fresh database and server
 * per run, tables emptied before every test. `db` is the server's own knex, for arranging and asserting.
 */
export function describeEachServer(title: string, body: (ctx: ServerContext) => void, options: ServerOptions = {}): void {
  describeServers(title, false, body, options);
}

/** What a describeEachServer block changes about its servers: extra env, and createDeps overrides. */
export interface ServerOptions {
  env?: NodeJS.ProcessEnv;
  overrides?: DepsOverrides;
}

/**
 * describeEachServer with `octoplex` run against the server's own database, as an operator's
 * shell next to the deployment: what the CLI writes, the server reads.
 */
export function describeEachServerWithCli(title: string, body: (ctx: ServerContext & { cli: () => CliTarget }) => void): void {
  describeServers(title, true, body);
}

function describeServers(
  title: string,
  withCli: boolean,
  body: (ctx: ServerContext & { cli: () => CliTarget }) => void,
  options: ServerOptions = {},
): void {
  describe.each(databaseKinds())(`${title} on %s`, (kind) => {
    let database: TestDatabase;
    let cli: CliTarget | undefined;
    let server: TestServer;
    beforeAll(async () => {
      cli = withCli ? await createCliTarget(kind) : undefined;
      database = cli?.database ?? (await createTestDatabase(kind));
      server = await startTestServer(database, options.env, 0, options.overrides);
    });
    beforeEach(() => truncateAll(server.deps.db));
    afterAll(async () => {
      await server?.close();
      await (cli ? cli.close() : database?.drop());
    });
    body({
      server: () => server,
      db: () => server.deps.db,
      cli: () => {
        if (!cli) throw new Error("use describeEachServerWithCli to run the CLI");
        return cli;
      },
    });
  });
}
