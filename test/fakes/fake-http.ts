// The small HTTP toolkit the fake GitHub is built from: replies, bodies, routes, Link headers.
import type { IncomingMessage, ServerResponse } from "node:http";

export type Body = Record<string, string>;

export interface Reply {
  status: number;
  /** An object goes out as JSON, a string as plain text. */
  body?: object | string;
  headers?: Record<string, string>;
}

export interface RouteContext {
  req: IncomingMessage;
  url: URL;
  /** The route pattern's capture groups, decoded. */
  params: string[];
  body(): Promise<Body>;
}

export type Route = [method: string, pattern: RegExp, handler: (ctx: RouteContext) => Reply | Promise<Reply>];

export const json = (status: number, body: object, headers: Record<string, string> = {}): Reply => ({ status, body, headers });
export const redirect = (location: string): Reply => ({ status: 302, headers: { location } });
export const notFound = (): Reply => json(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
export const badCredentials = (): Reply => json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });

export function send(res: ServerResponse, reply: Reply): void {
  // oauth-methods computes expiries from the Date header (STACK.md pitfall 3).
  const headers: Record<string, string> = { date: new Date().toUTCString(), ...reply.headers };
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers).end();
  } else if (typeof reply.body === "string") {
    res.writeHead(reply.status, { "content-type": "text/plain; charset=utf-8", ...headers }).end(reply.body);
  } else {
    res.writeHead(reply.status, { "content-type": "application/json; charset=utf-8", ...headers }).end(JSON.stringify(reply.body));
  }
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Octokit posts JSON; curl and browsers post forms. */
export function parseBody(req: IncomingMessage, raw: string): Body {
  if ((req.headers["content-type"] ?? "").includes("application/json")) return JSON.parse(raw || "{}") as Body;
  return Object.fromEntries(new URLSearchParams(raw));
}

/** The token of `Authorization: token X` / `Bearer X`. */
export function bearer(req: IncomingMessage): string | undefined {
  return /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
}

/** `Authorization: Basic base64(id:secret)`, as the OAuth app endpoints (/applications/…) take it. */
export function basicAuth(req: IncomingMessage): { user: string; password: string } | undefined {
  const encoded = /^basic (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
  if (!encoded) return undefined;
  const [user, ...rest] = Buffer.from(encoded, "base64").toString("utf8").split(":");
  return { user, password: rest.join(":") };
}

/** A JWT in shape: three base64url parts, a JSON header and payload (the app's JWT; not verified further). */
export function isJwt(token: string | undefined): boolean {
  const parts = (token ?? "").split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return false;
  try {
    JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
    return typeof JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) === "object";
  } catch {
    return false;
  }
}

/**
 * One page of `items` as GitHub pages lists: `per_page` (default 30, at most 100) and `page`
 * (from 1), with a Link header of absolute URLs (first/prev/next/last) on this server's origin.
 */
export function paginate<T>(items: T[], url: URL, origin: string): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(Math.max(Number(url.searchParams.get("per_page")) || 30, 1), 100);
  const page = Math.max(Math.trunc(Number(url.searchParams.get("page"))) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const at = (n: number) => {
    const u = new URL(`${url.pathname}${url.search}`, origin);
    u.searchParams.set("per_page", String(perPage));
    u.searchParams.set("page", String(n));
    return u.toString();
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${at(page - 1)}>; rel="prev"`);
  if (page < last) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
  if (page > 1) links.push(`<${at(1)}>; rel="first"`);
  return { page: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(", ") } : {} };
}
