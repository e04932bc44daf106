/**
 * What a browser does with Octoplex's redirects and cookies.
 *
 *   request(url, { cookie })              one hop, nothing followed, nothing kept (route tests)
 *   const b = createBrowser();            a cookie jar per origin, like one browser profile:
 *   await b.goto(url)                     GET, following redirects hop by hop across origins (app ↔ fake GitHub)
 *   await b.submit(url, fields)           a form post (urlencoded), then the redirects
 *   await b.json("POST", url, body)       an API call with the jar's cookies, no redirect followed
 *   formFields(html, "/setup/link")       the form's hidden inputs (csrf, installation_id …), decoded
 */
export interface Hop {
  status: number;
  location: string | null;
  setCookies: string[];
  /** Parsed JSON, or the text when the answer is not JSON. */
  body: unknown;
  /** The raw answer. */
  text: string;
}

export async function request(url: string, init: RequestInit & { cookie?: string } = {}): Promise<Hop> {
  const headers = browserHeaders(init);
  const res = await fetch(url, { ...init, headers, redirect: "manual" });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, location: res.headers.get("location"), setCookies: res.headers.getSetCookie(), body, text };
}

/**
 * The headers a browser sends: the cookie when given, and on a state-changing request with a cookie from our own
 * page, Sec-Fetch-Site: same-origin (the app refuses cookie-authenticated writes without it or a
 * matching Origin). A test of a cross-site request sets Origin or Sec-Fetch-Site itself.
 */
export function browserHeaders(init: RequestInit & { cookie?: string }): Headers {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set("cookie", init.cookie);
  if (!headers.has("cookie")) return headers;
  const unsafe = !["GET", "HEAD", "OPTIONS"].includes((init.method ?? "GET").toUpperCase());
  if (unsafe && !headers.has("origin") && !headers.has("sec-fetch-site")) headers.set("sec-fetch-site", "same-origin");
  return headers;
}

/** `name=value` of a Set-Cookie header, ready to send back as a Cookie header. */
export function cookiePair(setCookie: string): string {
  return setCookie.split(";")[0];
}

export function errorCode(body: unknown): string | undefined {
  return (body as { error?: { code?: string } })?.error?.code;
}

/** Where a navigation ended, and every hop on the way. */
export interface Page extends Hop {
  /** The URL of the last hop. */
  url: string;
  hops: Array<{ method: string; url: string; status: number; location: string | null }>;
}

export interface Browser {
  /** One request with the jar's cookies; Set-Cookie answers are kept; redirects are not followed. */
  request(url: string, init?: RequestInit): Promise<Hop & { url: string }>;
  /** A navigation: follows redirects (303, and 301/302 after a POST, turn into GET; 307/308 keep the method). */
  goto(url: string, init?: RequestInit): Promise<Page>;
  /** Posts a form (application/x-www-form-urlencoded; pairs for a name sent more than once, as checkboxes are) and follows the redirects. */
  submit(url: string, fields: Record<string, string> | Array<[string, string]>): Promise<Page>;
  /** A JSON API call (body serialized when given) with the jar's cookies. */
  json(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<Hop>;
  /** The cookies the jar holds for an origin (or any URL on it), whatever their Path. */
  cookies(url: string): Record<string, string>;
  clearCookies(): void;
}

const MAX_HOPS = 20;

export function createBrowser(): Browser {
  const jar = new Map<string, Map<string, { value: string; path: string }>>(); // origin → name → cookie

  function keep(url: string, setCookies: string[]): void {
    const origin = new URL(url).origin;
    const cookies = jar.get(origin) ?? new Map<string, { value: string; path: string }>();
    jar.set(origin, cookies);
    for (const header of setCookies) {
      const [pair, ...attributes] = header.split(";").map((p) => p.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      let path = "/";
      let expired = false;
      for (const attribute of attributes) {
        const [key, value = ""] = attribute.split("=");
        if (key.toLowerCase() === "path" && value.startsWith("/")) path = value;
        if (key.toLowerCase() === "max-age") expired ||= Number(value) <= 0;
        if (key.toLowerCase() === "expires") expired ||= Date.parse(value) <= Date.now();
      }
      // One cookie per name (tests never set one name on two paths).
      if (expired) cookies.delete(name);
      else cookies.set(name, { value: pair.slice(eq + 1), path });
    }
  }

  /** The Cookie header a browser sends: the origin's cookies whose Path covers the request's path. */
  const cookieHeader = (url: string) => {
    const { origin, pathname } = new URL(url);
    const matches = (path: string) => path === "/" || pathname === path || pathname.startsWith(path.endsWith("/") ? path : `${path}/`);
    return [...(jar.get(origin) ?? new Map<string, { value: string; path: string }>())]
      .filter(([, c]) => matches(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join("; ");
  };

  const browser: Browser = {
    async request(url, init = {}) {
      const hop = await request(url, { ...init, cookie: cookieHeader(url) || undefined });
      keep(url, hop.setCookies);
      return { ...hop, url };
    },
    async goto(start, init = {}) {
      const hops: Page["hops"] = [];
      let url = start;
      let current: RequestInit = init;
      for (;;) {
        const method = (current.method ?? "GET").toUpperCase();
        const hop = await browser.request(url, current);
        hops.push({ method, url, status: hop.status, location: hop.location });
        if (hop.status < 300 || hop.status >= 400 || !hop.location) return { ...hop, url, hops };
        if (hops.length >= MAX_HOPS) throw new Error(`more than ${MAX_HOPS} redirects: ${hops.map((h) => h.url).join(" → ")}`);
        url = new URL(hop.location, url).toString();
        const keepsMethod = hop.status === 307 || hop.status === 308 || method === "GET" || method === "HEAD";
        current = keepsMethod ? current : {};
      }
    },
    submit(url, fields) {
      return browser.goto(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
        body: new URLSearchParams(fields).toString(),
      });
    },
    json(method, url, body, headers = {}) {
      const init: RequestInit = { method, headers: { accept: "application/json", ...headers } };
      if (body !== undefined) {
        init.body = typeof body === "string" ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)["content-type"] = "application/json";
      }
      return browser.request(url, init);
    },
    cookies: (url) => Object.fromEntries([...(jar.get(new URL(url).origin) ?? [])].map(([name, c]) => [name, c.value])),
    clearCookies: () => jar.clear(),
  };
  return browser;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#x27": "'" };
const decode = (s: string) => s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_m, e: string) => ENTITIES[e]);

/**
 * The hidden inputs of the first form posting to `action` in `html` (and matching `where`, e.g.
 * `(f) => f.installation_id === "70001"`), decoded; throws when there is none.
 */
export function formFields(html: string, action: string, where: (fields: Record<string, string>) => boolean = () => true): Record<string, string> {
  for (const form of html.match(/<form\b[^>]*>[\s\S]*?<\/form>/g) ?? []) {
    if (decode(/\baction="([^"]*)"/.exec(form)?.[1] ?? "") !== action) continue;
    const fields: Record<string, string> = {};
    for (const input of form.match(/<input\b[^>]*>/g) ?? []) {
      if (!/\btype="hidden"/.test(input)) continue;
      const name = /\bname="([^"]*)"/.exec(input)?.[1];
      if (name) fields[decode(name)] = decode(/\bvalue="([^"]*)"/.exec(input)?.[1] ?? "");
    }
    if (where(fields)) return fields;
  }
  throw new Error(`no form posting to ${action} (with the fields asked for) in the page`);
}
