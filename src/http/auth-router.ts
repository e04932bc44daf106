import { Router } from "express";
import { z } from "zod";
import type { AuthServices } from "../deps";
import { AppError } from "../errors";
import type { ApiKeys } from "../services/api-keys";
import { authenticate, callerOf } from "./authenticate";
import {
  clearLoginStateCookie,
  clearSessionCookie,
  LOGIN_STATE_COOKIE,
  readCookie,
  setLoginStateCookie,
  setSessionCookie,
} from "./session-cookie";
import { parseQuery } from "./validate";

const loginQuery = z.object({ return_to: z.string().max(2048).optional() });
const callbackQuery = z.object({
  code: z.string().min(1).max(512),
  state: z.string().min(1).max(512).optional(),
  installation_id: z.string().regex(/^[1-9]\d{0,15}$/).optional(),
  setup_action: z.enum(["install", "update", "request"]).optional(),
});
const logoutQuery = z.object({ revoke: z.enum(["true", "false"]).optional() });

/** GET /auth/login, GET /auth/callback, POST /auth/logout. */
export function createAuthRouter(auth: AuthServices, apiKeys: ApiKeys): Router {
  const router = Router();

  router.get("/auth/login", async (req, res) => {
    const { return_to } = parseQuery(loginQuery, req);
    const { url, state } = await auth.signIn.start(return_to);
    setLoginStateCookie(res, state, auth.secureCookies);
    res.redirect(302, url);
  });

  router.get("/auth/callback", async (req, res) => {
    const query = parseQuery(callbackQuery, req);
    const install = query.installation_id ? { installation_id: query.installation_id, setup_action: query.setup_action ?? "install" } : undefined;
    if (!query.state && !install) {
      throw new AppError("invalid_input", "The sign-in link is invalid, expired or already used; start again from /auth/login");
    }
    const signedIn = query.state
      ? await auth.signIn.complete(query.code, query.state, readCookie(req, LOGIN_STATE_COOKIE))
      : { ...(await auth.signIn.completeInstallCallback(query.code)), returnTo: "/" };
    setSessionCookie(res, signedIn.sessionId, signedIn.expiresAt, auth.secureCookies);
    if (query.state) clearLoginStateCookie(res, auth.secureCookies);
    // An install that came back here (the app asks for authorization during installation) is
    // verified and confirmed on the setup page, exactly like one that went to the setup URL.
    res.redirect(302, install ? `/setup?${new URLSearchParams(install)}` : signedIn.returnTo);
  });

  router.post("/auth/logout", authenticate({ sessions: auth.sessions, apiKeys }), async (req, res) => {
    const caller = callerOf(res);
    const { revoke } = parseQuery(logoutQuery, req);
    if (caller.kind !== "session") {
      throw new AppError("invalid_input", "Logout ends a browser session; API keys are revoked with `octoplex api-key revoke`");
    }
    if (revoke === "true") await auth.userTokens.revokeGrant(caller.userId);
    await auth.sessions.end(caller.sessionId);
    clearSessionCookie(res, auth.secureCookies);
    // A form post from a page goes back to the start; an API client gets no content.
    if (req.accepts(["json", "html"]) === "html") res.redirect(303, "/");
    else res.status(204).end();
  });

  return router;
}
