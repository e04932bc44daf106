/** What a browser does with Octoplex's redirects and cookies, one request at a time. */
export interface Hop {
  status: number;
  location: string | null;
  setCookies: string[];
  body: unknown;
}

export async function request(url: string, init: RequestInit & { cookie?: string } = {}): Promise<Hop> {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set("cookie", init.cookie);
  const res = await fetch(url, { ...init, headers, redirect: "manual" });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, location: res.headers.get("location"), setCookies: res.headers.getSetCookie(), body };
}

/** `name=value` of a Set-Cookie header, ready to send back as a Cookie header. */
export function cookiePair(setCookie: string): string {
  return setCookie.split(";")[0];
}

export function errorCode(body: unknown): string | undefined {
  return (body as { error?: { code?: string } })?.error?.code;
}
