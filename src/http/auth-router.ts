import { Router } from "express";
import { z } from "zod";
import type { AuthServices } from "../deps";
import { AppError } from "../errors";
import { freeText } from "../free-text";
import type { ApiKeys } from "../services/identity/api-keys";
import { authenticate, callerOf } from "./authenticate";
import { clientAddress } from "./client-address";
import {
  clearLoginStateCookie,
  clearSessionCookie,
  readLoginStateCookie,
  setLoginStateCookie,
  setSessionCookie,
} from "./session-cookie";
import { parseQuery } from "./validate";

const loginQuery = z.object({ return_to: freeText().max(2048).optional() });
const callbackQuery = z.object({
  code: freeText().min(1).max(512),
  state: freeText().min(1).max(512).optional(),
  installation_id: z.string().regex(/^[1-9]\d{0,15}$/).optional(),
  setup_action: z.enum(["install", "update", "request"]).optional(),
});
const logoutQuery = z.object({ revoke: z.enum(["true", "false"]).optional() });

/** GET /auth/login, GET /auth/callback, POST /auth/logout. */
export function createAuthRouter(auth: AuthServices, apiKeys: ApiKeys): Router {
  const router = Router();

  router.get("/auth/login", async (req, res) => {
    const { return_to } = parseQuery(loginQuery, req);
    const { url, state } = await auth.signIn.start(return_to, clientAddress(req));
    setLoginStateCookie(res, state, auth.secureCookies);
    res.redirect(302, url);
  });

  router.get("/auth/callback", async (req, res) => {
    const query = parseQuery(callbackQuery, req);
    if (query.installation_id) {
      // An install that came back here (the app asks for authorization during installation).
      // Its code comes with no state this browser holds, so it is never exchanged: anyone can
      // send a victim a callback carrying the attacker's own code (login CSRF). The setup page
      // signs the person in first when needed, by the state-bound flow above (GitHub skips the
      // prompt: they have just authorized), then verifies and confirms like any other install.
      // A state here is the install link's, so the setup page checks it.
      const setup = { installation_id: query.installation_id, setup_action: query.setup_action ?? "install", ...(query.state ? { state: query.state } : {}) };
      res.redirect(302, `/setup?${new URLSearchParams(setup)}`);
      return;
    }
    if (!query.state) {
      throw new AppError("invalid_input", "The sign-in link is invalid, expired or already used; start again from /auth/login");
    }
    const signedIn = await auth.signIn.complete(query.code, query.state, readLoginStateCookie(req, auth.secureCookies));
    setSessionCookie(res, signedIn.sessionId, signedIn.expiresAt, auth.secureCookies);
    clearLoginStateCookie(res, auth.secureCookies);
    res.redirect(302, signedIn.returnTo);
  });

  router.post("/auth/logout", authenticate({ sessions: auth.sessions, apiKeys, rateLimits: auth.rateLimits, secureCookies: auth.secureCookies }), async (req, res) => {
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
