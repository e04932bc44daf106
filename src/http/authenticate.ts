import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AppError } from "../errors";
import type { ApiKeys } from "../services/identity/api-keys";
import type { RateLimits } from "../services/identity/rate-limits";
import type { Sessions } from "../services/identity/sessions";
import { clientAddress } from "./client-address";
import { readSessionCookie } from "./session-cookie";

/** Who is calling: a person by session, or a platform server by API key (maybe acting for a user). */
export type Caller =
  | { kind: "session"; userId: number; sessionId: string }
  | { kind: "api_key"; apiKeyId: number; userId: number | null; teamIds: number[] | null };

export function callerOf(res: Response): Caller {
  const caller = res.locals.caller as Caller | undefined;
  if (!caller) throw new Error("authenticate() must run before this handler");
  return caller;
}

/** The GitHub user the request acts for; an API key without X-Octoplex-User has none. */
export function userOf(res: Response): number {
  const caller = callerOf(res);
  if (caller.userId === null) {
    throw new AppError("user_required", "This route acts as a GitHub user: send X-Octoplex-User with their GitHub user id");
  }
  return caller.userId;
}

interface AuthenticateDeps {
  sessions: Sessions;
  apiKeys: ApiKeys;
  rateLimits: RateLimits;
  /** https: the session cookie is read under its __Host- name only. */
  secureCookies: boolean;
}

export function authenticate({ sessions, apiKeys, rateLimits, secureCookies }: AuthenticateDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const authorization = req.header("authorization");
    if (authorization) {
      const bearer = /^Bearer(\s|$)/i.test(authorization);
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      const apiKey = match ? await apiKeys.authenticate(match[1]) : undefined;
      if (!apiKey) {
        // Only failures are counted (a malformed header or another scheme too), so a valid key costs
        // no write and works even from an address that is over the limit (keys are 256 random bits:
        // the limit is against noise, not guessing). Over the limit the answer is 429 with the same
        // non-answer about the key.
        await rateLimits.hit("failed_api_key", clientAddress(req));
        throw new AppError(
          "unauthenticated",
          bearer ? "The API key is unknown or revoked" : "Authorization must be a Bearer API key: `Authorization: Bearer opx_…` (see `octoplex api-key create`)",
        );
      }
      const acting = req.header("x-octoplex-user");
      // 16 digits can exceed 2^53, where Number() would round to another user's id.
      if (acting !== undefined && !(/^[1-9]\d{0,15}$/.test(acting) && Number.isSafeInteger(Number(acting)))) {
        const message = "must be a GitHub user id (a positive integer)";
        throw new AppError("invalid_input", `X-Octoplex-User ${message}`, { details: [{ path: "headers.x-octoplex-user", message }] });
      }
      res.locals.caller = { kind: "api_key", apiKeyId: apiKey.id, userId: acting ? Number(acting) : null, teamIds: apiKey.teamIds } satisfies Caller;
      return next();
    }
    const sessionId = readSessionCookie(req, secureCookies);
    const userId = sessionId ? await sessions.resolve(sessionId) : undefined;
    if (!sessionId || userId === undefined) {
      throw new AppError("unauthenticated", "Sign in first: GET /auth/login");
    }
    res.locals.caller = { kind: "session", userId, sessionId } satisfies Caller;
    next();
  };
}
