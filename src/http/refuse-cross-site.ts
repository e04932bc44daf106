import type { RequestHandler } from "express";
import { readSessionCookie } from "./session-cookie";
import { sendError } from "./send-error";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * CSRF defence for everything the session cookie authenticates: a state-changing request (logout,
 * API writes, the pages' forms) must come from our own pages. Browsers say where a request comes
 * from: Sec-Fetch-Site when they send it, else Origin (sent on every cross-site POST); a request
 * with neither is no browser's, and scripts use API keys. A Bearer request carries no ambient
 * credential, so it is exempt. The refusal happens before any handler: nothing changes.
 */
export function refuseCrossSite({ baseUrl, secureCookies }: { baseUrl: string; secureCookies: boolean }): RequestHandler {
  const origin = new URL(baseUrl).origin;
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method) || req.headers.authorization || readSessionCookie(req, secureCookies) === undefined) return next();
    const site = req.header("sec-fetch-site");
    const sameOrigin = site !== undefined ? site === "same-origin" || site === "none" : req.header("origin") === origin;
    if (sameOrigin) return next();
    sendError(res, 403, "forbidden", "cross-site request refused");
  };
}
