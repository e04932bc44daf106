import type { ApplicationFunction, Probot } from "probot";
import { parseConfig } from "./config";
import { migrateLatest } from "./db/migrate";
import { createDeps, Deps } from "./deps";
import { createRoutes } from "./http/routes";
import { securityHeadersMiddleware } from "./http/security-headers";
import { registerWebhooks } from "./webhooks";
import { signatureDigest } from "./webhooks/signature";

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
    acceptSha256Only(app);
    getRouter?.("/").use(securityHeadersMiddleware(deps.config.baseUrl), createRoutes(deps));
    onReady?.(deps);
  };
}

// Never matches: a signature in any other form fails as a wrong one does, on Probot's own path.
const NO_SIGNATURE = `sha256=${"0".repeat(64)}`;

/**
 * Probot's webhook middleware verifies with @octokit/webhooks-methods, which takes a `sha1=`
 * signature in X-Hub-Signature-256 (GitHub's legacy X-Hub-Signature form); as on `npm start` and
 * Lambda, only `sha256=` counts.
 */
function acceptSha256Only(app: Probot): void {
  const verifyAndReceive = app.webhooks.verifyAndReceive;
  app.webhooks.verifyAndReceive = (event) => verifyAndReceive(signatureDigest(event.signature) ? event : { ...event, signature: NO_SIGNATURE });
}
