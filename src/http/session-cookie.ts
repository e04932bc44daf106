import { parse, serialize } from "cookie";
import type { Request, Response } from "express";

export const SESSION_COOKIE = "octoplex_session";

export function readSessionCookie(req: Request): string | undefined {
  const header = req.headers.cookie;
  return header ? parse(header)[SESSION_COOKIE] : undefined;
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
