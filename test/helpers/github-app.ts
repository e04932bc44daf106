import nock from "nock";
import { githubInstallationToken } from "../fixtures/github-answers";
import { newInstallationToken } from "../fixtures/tokens";
import { GITHUB_API } from "./github-oauth";

/**
 * GitHub as the app sees it, nocked: installation tokens minted with the app's JWT, and a record
 * of every request nock had no interceptor for (so a test can say "GitHub was not called").
 */

/** The claims of the app JWT in an `Authorization: bearer …` header. */
export function jwtClaims(authorization: string | undefined): { iat: number; exp: number; iss: string | number } {
  const jwt = /^bearer (.+)$/i.exec(authorization ?? "")?.[1] ?? "";
  return JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8"));
}

/**
 * An `Authorization: bearer <JWT>` header: the app itself, not an installation or a user. A JWT's
 * header is JSON, so it starts `eyJ`; an installation token (`ghs_<app id>_<JWT>`, with two dots
 * too) sent as bearer is not the app.
 */
export const isAppJwt = (authorization: string) => /^bearer eyJ[\w-]*\.[\w-]+\.[\w-]+$/i.test(authorization);

export interface NockedMint {
  scope: nock.Scope;
  token: string;
  /** The Authorization headers the mint requests carried (the app's JWT). */
  authorizations: string[];
}

/**
 * POST /app/installations/:id/access_tokens, answered with `token` (a fresh one in GitHub's current
 * `ghs_<app id>_<JWT>` format unless given; `newClassicInstallationToken()` for the old one), valid
 * for an hour; only with a JWT, as GitHub does.
 */
export function nockInstallationToken(installationId: number, token = newInstallationToken(undefined, installationId), options: { times?: number } = {}): NockedMint {
  const authorizations: string[] = [];
  const scope = nock(GITHUB_API)
    .post(`/app/installations/${installationId}/access_tokens`)
    .matchHeader("authorization", isAppJwt)
    .times(options.times ?? 1)
    .reply(function () {
      authorizations.push(String(this.req.headers.authorization));
      return [201, githubInstallationToken(token, { permissions: { administration: "write", contents: "write", metadata: "read" } })];
    });
  return { scope, token, authorizations };
}

/** `Authorization` as Octokit sends a token: `token <value>`. */
export const tokenHeader = (token: string) => `token ${token}`;

export interface UnexpectedGithubCalls {
  /** `METHOD url` of every request that reached no interceptor (nock refuses it: net connect is off). */
  readonly calls: string[];
  stop(): void;
}

/** Records requests off this machine (GitHub) that no interceptor answered; call stop() when done (afterEach). */
export function recordUnexpectedGithubCalls(): UnexpectedGithubCalls {
  const calls: string[] = [];
  const listener = (req: { method?: string; href?: string; path?: string; host?: string; hostname?: string; options?: { href?: string } }) => {
    const url = req.href ?? req.options?.href ?? `${req.hostname ?? req.host ?? ""}${req.path ?? ""}`;
    // nock reports the requests it lets through to loopback (the app under test) as well.
    if (/^(https?:\/\/)?(127\.0\.0\.1|localhost)[:/]/.test(url)) return;
    calls.push(`${req.method ?? "?"} ${url}`);
  };
  nock.emitter.on("no match", listener);
  return {
    calls,
    stop: () => void nock.emitter.removeListener("no match", listener),
  };
}
