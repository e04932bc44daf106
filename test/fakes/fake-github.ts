import { createServer, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../helpers/config";
import { newTokens, tokenBody, TestTokens, TestUser } from "../helpers/github-oauth";

export interface FakeGithubOptions {
  /** How long a refresh takes here; the default 50 ms widens the window in which racing callers overlap. */
  refreshDelayMs?: number;
  clientId?: string;
  clientSecret?: string;
}

export interface FakeGithub {
  /** The origin, e.g. http://127.0.0.1:54321: as GHE_HOST (protocol http) or as an OAuth baseUrl. */
  url: string;
  /** POST /login/oauth/access_token with grant_type=refresh_token received, whatever the answer. */
  readonly refreshCalls: number;
  /** The newest pair handed out (by issue, a code exchange or a refresh). */
  readonly current: TestTokens | undefined;
  readonly currentRefreshToken: string | undefined;
  /** A pair GitHub knows, as if `user` had signed in: its refresh token works once. */
  issue(user?: TestUser): TestTokens;
  /** A single-use authorization code that exchanges for a new pair of `user`'s. */
  addCode(code: string, user: TestUser): void;
  close(): Promise<void>;
}

const OCTOCAT: TestUser = { id: 583231, login: "octocat" };

type Body = Record<string, string>;

/**
 * GitHub's OAuth endpoints as a real HTTP server on loopback, for tests and benchmarks that run
 * other processes (nock only intercepts inside its own process). Refresh tokens are single-use,
 * and refusals come back as HTTP 200 with an `error` field, as GitHub answers them.
 */
export async function startFakeGithub(options: FakeGithubOptions = {}): Promise<FakeGithub> {
  const { refreshDelayMs = 50, clientId = TEST_CLIENT_ID, clientSecret = TEST_CLIENT_SECRET } = options;
  const refreshTokens = new Map<string, { user: TestUser; used: boolean }>();
  const accessTokens = new Map<string, TestUser>();
  const codes = new Map<string, TestUser>();
  let refreshCalls = 0;
  let current: TestTokens | undefined;

  function issue(user: TestUser = OCTOCAT): TestTokens {
    const tokens = newTokens();
    refreshTokens.set(tokens.refreshToken, { user, used: false });
    accessTokens.set(tokens.token, user);
    current = tokens;
    return tokens;
  }

  async function accessToken(body: Body): Promise<[number, object]> {
    if (body.client_id !== clientId || body.client_secret !== clientSecret) {
      return oauthError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
    }
    if (body.grant_type === "refresh_token") {
      refreshCalls++;
      const grant = refreshTokens.get(body.refresh_token);
      // Spent at arrival: a second request racing the first one is refused, as GitHub would.
      const usable = grant !== undefined && !grant.used;
      if (grant) grant.used = true;
      await new Promise((resolve) => setTimeout(resolve, refreshDelayMs));
      if (!usable) return oauthError("bad_refresh_token", "The refresh token passed is incorrect or expired.");
      return [200, tokenBody(issue(grant.user))];
    }
    const user = body.code === undefined ? undefined : codes.get(body.code);
    if (!user) return oauthError("bad_verification_code", "The code passed is incorrect or expired.");
    codes.delete(body.code);
    return [200, tokenBody(issue(user))];
  }

  function getUser(req: IncomingMessage): [number, object] {
    const token = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const user = token === undefined ? undefined : accessTokens.get(token);
    if (!user) return [401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" }];
    return [200, { id: user.id, login: user.login, name: `${user.login} name`, avatar_url: `https://avatars.example/${user.id}`, type: "User" }];
  }

  async function route(req: IncomingMessage): Promise<[number, object]> {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    if (req.method === "POST" && path === "/login/oauth/access_token") return accessToken(parseBody(req, await readBody(req)));
    // The REST API lives at the root (api.github.com style) and under /api/v3 (GHES style, as GHE_HOST gives).
    if (req.method === "GET" && (path === "/user" || path === "/api/v3/user")) return getUser(req);
    return [404, { message: "Not Found" }];
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    route(req)
      .then(([status, body]) => send(res, status, body))
      .catch((error: Error) => send(res, 500, { message: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get refreshCalls() {
      return refreshCalls;
    },
    get current() {
      return current;
    },
    get currentRefreshToken() {
      return current?.refreshToken;
    },
    issue,
    addCode: (code, user) => void codes.set(code, user),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function oauthError(error: string, description: string): [number, object] {
  return [200, { error, error_description: description, error_uri: "https://docs.github.com/apps/oauth" }];
}

function send(res: ServerResponse, status: number, body: object): void {
  // oauth-methods computes expiries from the Date header (STACK.md pitfall 3).
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", date: new Date().toUTCString() });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Octokit posts JSON; curl and browsers post forms. */
function parseBody(req: IncomingMessage, raw: string): Body {
  if ((req.headers["content-type"] ?? "").includes("application/json")) return JSON.parse(raw || "{}") as Body;
  return Object.fromEntries(new URLSearchParams(raw));
}
