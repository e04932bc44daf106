import { Router } from "express";
import type { Deps } from "../deps";
import { checkDatabase } from "../services/health";
import { createAuthRouter } from "./auth-router";
import { authenticate } from "./authenticate";
import { createHealthRouter } from "./health-router";
import { jsonBody } from "./json-body";
import { createMeRouter } from "./me-router";
import { createOpenApiRouter } from "./openapi-router";
import { createPagesRouter } from "./pages-router";
import { createRepositoriesRouter } from "./repositories-router";
import { refuseCrossSite } from "./refuse-cross-site";
import { createTeamsRouter } from "./teams-router";
import { createTokensRouter } from "./tokens-router";

/** Every route except GitHub's webhooks: shared by `npm start`, `probot run` and Lambda. */
export function createRoutes(deps: Pick<Deps, "db" | "services" | "config">): Router {
  const { auth, apiKeys } = deps.services;
  const { baseUrl } = deps.config;
  if (!auth || !baseUrl) throw new Error("the HTTP routes need the sign-in configuration (server scope)");
  const router = Router();
  router.use(refuseCrossSite({ baseUrl, secureCookies: auth.secureCookies }));
  router.use(createHealthRouter(() => checkDatabase(deps.db)));
  router.use(createOpenApiRouter());
  router.use(createAuthRouter(auth, apiKeys));
  router.use(createPagesRouter(auth));
  router.use("/api", authenticate({ sessions: auth.sessions, apiKeys, rateLimits: auth.rateLimits, secureCookies: auth.secureCookies }));
  // Before the default parser: a commit's body may be far larger than anything else, and is
  // read only once the caller may commit there.
  router.use(createRepositoriesRouter(auth));
  router.use("/api", jsonBody(100 * 1024));
  router.use(createMeRouter(auth));
  router.use(createTeamsRouter({ ...auth, audit: deps.services.audit, teamRepositories: deps.services.teamRepositories }));
  router.use(createTokensRouter(auth));
  return router;
}
