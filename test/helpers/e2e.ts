/**
 * End to end: the real Octoplex server (startServer, createDeps with TestOctokit and captureLogger)
 * configured against the fake GitHub (test/fakes/fake-github.ts) over loopback HTTP, on SQLite and
 * Postgres. Nothing is nocked: sign-in, installs and every GitHub call go through the fake.
 *
 * Stable API (the browser tests build on it):
 *
 *   describeEachE2E("Bob's story", ({ e2e }) => {
 *     test("…", async () => {
 *       const { github, url, db } = e2e();
 *       github.world.setMembership(github.world.addOrg(ACME), BOB, "admin");
 *       const bob = await e2e().signIn(BOB);                     // a Browser holding Bob's session cookie
 *       const team = await bob.json("POST", url("/api/teams"), { name: "A" });
 *       github.setInstallTarget(github.world.org("acme")!);
 *       const page = await bob.goto(installUrl);                 // fake install → /setup → /teams/:id/connect
 *     });
 *   });
 *
 * Or by hand: `const e2e = await startE2E(database)`, `await e2e.reset()` between tests, `await e2e.close()`.
 * The app: BASE_URL = e2e.baseUrl (http://127.0.0.1:<port>), GHE_HOST = the fake's host, GHE_PROTOCOL = http,
 * APP_SLUG unset (the slug comes from the fake's GET /app). The fake's app.setupUrl is `${baseUrl}/setup`,
 * app.callbackUrl `${baseUrl}/auth/callback`.
 */
import { createServer } from "node:net";
import type { Knex } from "knex";
import { FakeGithub, FakeInstallation, startFakeGithub } from "../fakes/fake-github";
import { Browser, createBrowser, Page } from "./browser";
import { createTestDatabase, databaseKinds, TestDatabase, truncateAll } from "./databases";
import type { TestUser } from "./github-oauth";
import { startTestServer, TestServer } from "./test-server";

export interface E2E {
  github: FakeGithub;
  /** The running app: url, deps, database, sendWebhook. */
  server: TestServer;
  /** The app's own origin, also its BASE_URL. */
  baseUrl: string;
  /** The app server's knex, for arranging and asserting. */
  db: Knex;
  /** An absolute URL on the app: url("/api/teams"). */
  url(path: string): string;
  /** A new browser with an empty cookie jar. */
  browser(): Browser;
  /**
   * Signs `user` in the way a person does: they are signed in to (fake) GitHub, then
   * GET /auth/login?return_to → GitHub's authorize → /auth/callback → session cookie.
   * Returns the browser (a new one unless given) and throws unless it holds a session.
   */
  signIn(user: TestUser, options?: { browser?: Browser; returnTo?: string }): Promise<Browser & { landing: Page }>;
  /**
   * Sends GitHub's `installation` webhook (signed, over HTTP) for an installation of the fake's
   * world, by id, or as `world.uninstall(id)` returned it (uninstall first, then send "deleted").
   */
  sendInstallationEvent(action: "created" | "deleted" | "suspend" | "unsuspend", installation: number | FakeInstallation): Promise<Response>;
  /** Between tests: empty tables, an empty fake world, default app settings. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export const SESSION_COOKIE = "octoplex_session";

/** A port nobody listens on right now (the server must know its origin before it starts). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startE2E(database: TestDatabase, extraEnv: NodeJS.ProcessEnv = {}): Promise<E2E> {
  const github = await startFakeGithub();
  let server: TestServer | undefined;
  try {
    // Another process may take the port between the probe and the listen: try a few.
    for (let attempt = 1; !server; attempt++) {
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      const env = { GHE_HOST: new URL(github.url).host, GHE_PROTOCOL: "http", BASE_URL: baseUrl, ...extraEnv };
      try {
        server = await startTestServer(database, env, port);
      } catch (error) {
        if ((error as { code?: string }).code !== "EADDRINUSE" || attempt >= 5) throw error;
      }
    }
  } catch (error) {
    await github.close();
    throw error;
  }
  const running = server;
  const baseUrl = running.url;
  const defaults = () => {
    github.app.setupUrl = `${baseUrl}/setup`;
    github.app.callbackUrl = `${baseUrl}/auth/callback`;
    github.app.requestOAuthOnInstall = false;
    github.app.onInstall = undefined;
    github.app.slug = "octoplex";
  };
  defaults();

  const e2e: E2E = {
    github,
    server: running,
    baseUrl,
    db: running.deps.db,
    url: (path) => `${baseUrl}${path}`,
    browser: createBrowser,
    async signIn(user, options = {}) {
      const browser = options.browser ?? createBrowser();
      github.signInAs(user);
      const landing = await browser.goto(e2e.url(`/auth/login?return_to=${encodeURIComponent(options.returnTo ?? "/")}`));
      if (!browser.cookies(baseUrl)[SESSION_COOKIE]) {
        throw new Error(`signing in as ${user.login} ended without a session: ${landing.hops.map((h) => `${h.status} ${h.url}`).join(" → ")}`);
      }
      return Object.assign(browser, { landing });
    },
    async sendInstallationEvent(action, which) {
      const installation = typeof which === "number" ? github.world.installation(which) : which;
      if (!installation) throw new Error(`the fake GitHub has no installation ${String(which)}`);
      return running.sendWebhook("installation", github.installationEvent(action, installation));
    },
    async reset() {
      await truncateAll(running.deps.db);
      github.reset();
      defaults();
    },
    async close() {
      await running.close();
      await github.close();
    },
  };
  return e2e;
}

/**
 * Runs a describe block once per database (SQLite always, Postgres when available) against the
 * real server and a fake GitHub, both started once per run; reset before every test.
 */
export function describeEachE2E(title: string, body: (ctx: { e2e: () => E2E }) => void): void {
  describe.each(databaseKinds())(`${title} on %s`, (kind) => {
    let database: TestDatabase;
    let e2e: E2E;
    beforeAll(async () => {
      database = await createTestDatabase(kind);
      e2e = await startE2E(database);
    });
    beforeEach(() => e2e.reset());
    afterAll(async () => {
      await e2e?.close();
      await database?.drop();
    });
    body({ e2e: () => e2e });
  });
}
