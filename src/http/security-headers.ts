import type { ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import { STYLE_SOURCE } from "./views/layout";

// JSON needs nothing; a page needs its one hashed inline <style>, GitHub's avatars and its own forms.
const API_POLICY = "default-src 'none'; frame-ancestors 'none'";
const PAGE_POLICY = `default-src 'none'; style-src ${STYLE_SOURCE}; img-src https:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;

/** The headers every answer carries, webhooks' included (no-store: answers carry CSRF tokens, keys, or user data). */
export function securityHeaders(https: boolean): Record<string, string> {
  return {
    "X-Content-Type-Options": "nosniff",
    // Not no-referrer: that turns a form post's Origin into "null", which the CSRF check then refuses.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": API_POLICY,
    "Cache-Control": "no-store",
    ...(https ? { "Strict-Transport-Security": "max-age=31536000; includeSubDomains" } : {}),
  };
}

export function setSecurityHeaders(res: ServerResponse, https: boolean): void {
  for (const [name, value] of Object.entries(securityHeaders(https))) res.setHeader(name, value);
}

/** Sets them on every answer; an HTML answer gets the page policy once its content type is known. */
export function securityHeadersMiddleware(baseUrl: string | undefined): RequestHandler {
  const https = baseUrl?.startsWith("https://") ?? false;
  return (_req, res, next) => {
    setSecurityHeaders(res, https);
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      if (/^text\/html\b/i.test(String(this.getHeader("content-type") ?? ""))) this.setHeader("Content-Security-Policy", PAGE_POLICY);
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as typeof res.writeHead;
    next();
  };
}
