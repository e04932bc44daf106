import { parse, serialize } from "cookie";
import type { Request, Response } from "express";

export const SESSION_COOKIE = "octoplex_session";
export const LOGIN_STATE_COOKIE = "octoplex_login_state";

/**
 * Under https the names carry the __Host- prefix: a browser keeps such a cookie only when it is
 * Secure, Path=/ and without Domain, so a sibling subdomain cannot plant one (login CSRF by cookie
 * tossing). Browsers refuse the prefix without Secure, hence the plain names on http://localhost.
 */
export function cookieName(name: string, secure: boolean): string {
  return secure ? `__Host-${name}` : name;
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  return header ? parse(header)[name] : undefined;
}

export function readSessionCookie(req: Request, secure: boolean): string | undefined {
  return readCookie(req, cookieName(SESSION_COOKIE, secure));
}

export function readLoginStateCookie(req: Request, secure: boolean): string | undefined {
  return readCookie(req, cookieName(LOGIN_STATE_COOKIE, secure));
}

// On http the state cookie stays scoped to /auth; __Host- requires Path=/.
const loginStatePath = (secure: boolean) => (secure ? "/" : "/auth");

/** Binds a sign-in to the browser that started it; lives as long as the state (10 minutes). */
export function setLoginStateCookie(res: Response, state: string, secure: boolean): void {
  const options = { httpOnly: true, sameSite: "lax", secure, path: loginStatePath(secure), maxAge: 600 } as const;
  res.append("Set-Cookie", serialize(cookieName(LOGIN_STATE_COOKIE, secure), state, options));
}

export function clearLoginStateCookie(res: Response, secure: boolean): void {
  const options = { httpOnly: true, sameSite: "lax", secure, path: loginStatePath(secure), expires: new Date(0) } as const;
  res.append("Set-Cookie", serialize(cookieName(LOGIN_STATE_COOKIE, secure), "", options));
}

export function setSessionCookie(res: Response, id: string, expiresAt: Date, secure: boolean): void {
  const options = { httpOnly: true, sameSite: "lax", secure, path: "/", expires: expiresAt } as const;
  res.append("Set-Cookie", serialize(cookieName(SESSION_COOKIE, secure), id, options));
}

export function clearSessionCookie(res: Response, secure: boolean): void {
  const options = { httpOnly: true, sameSite: "lax", secure, path: "/", expires: new Date(0) } as const;
  res.append("Set-Cookie", serialize(cookieName(SESSION_COOKIE, secure), "", options));
}
