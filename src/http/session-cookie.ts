import { parse, serialize } from "cookie";
import type { Request, Response } from "express";

export const SESSION_COOKIE = "octoplex_session";
export const LOGIN_STATE_COOKIE = "octoplex_login_state";

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  return header ? parse(header)[name] : undefined;
}

export function readSessionCookie(req: Request): string | undefined {
  return readCookie(req, SESSION_COOKIE);
}

/** Binds a sign-in to the browser that started it; lives as long as the state (10 minutes). */
export function setLoginStateCookie(res: Response, state: string, secure: boolean): void {
  res.append("Set-Cookie", serialize(LOGIN_STATE_COOKIE, state, { httpOnly: true, sameSite: "lax", secure, path: "/auth", maxAge: 600 }));
}

export function clearLoginStateCookie(res: Response, secure: boolean): void {
  res.append("Set-Cookie", serialize(LOGIN_STATE_COOKIE, "", { httpOnly: true, sameSite: "lax", secure, path: "/auth", expires: new Date(0) }));
}

export function setSessionCookie(res: Response, id: string, expiresAt: Date, secure: boolean): void {
  res.append(
    "Set-Cookie",
    serialize(SESSION_COOKIE, id, { httpOnly: true, sameSite: "lax", secure, path: "/", expires: expiresAt }),
  );
}

export function clearSessionCookie(res: Response, secure: boolean): void {
  res.append(
    "Set-Cookie",
    serialize(SESSION_COOKIE, "", { httpOnly: true, sameSite: "lax", secure, path: "/", expires: new Date(0) }),
  );
}
