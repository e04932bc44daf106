import type { ApplicationFunction } from "probot";
import { parseConfig } from "./config";
import { migrateLatest } from "./db/migrate";
import { createDeps, Deps } from "./deps";
import { createRoutes } from "./http/routes";
import { securityHeadersMiddleware } from "./http/security-headers";
import { registerWebhooks } from "./webhooks";

/**
 * The Probot app function, for `probot run ./lib/index.js`. Probot then owns the server and its
 * webhook middleware; `npm start` (src/main.ts) serves the same handlers with Octoplex's own.
 * `onReady` hands the wired dependencies to whoever needs to close them (tests).
 */
export function createOctoplexAppFn(onReady?: (deps: Deps) => void): ApplicationFunction {
  return async (app, { getRouter, cwd }) => {
    const deps = createDeps(parseConfig(process.env, "server", cwd), { probot: app, log: app.log });
    await migrateLatest(deps.db);
    registerWebhooks(app, deps.services, deps.config.appId);
    getRouter?.("/").use(securityHeadersMiddleware(deps.config.baseUrl), createRoutes(deps));
    onReady?.(deps);
  };
}
