// What an installation token reaches on the fake GitHub (GHES layout, /api/v3), added to a running
// fake with `github.addRoutes(installationApiRoutes(github))`, and how many tokens were minted.
//
//   GET /api/v3/repos/:owner/:repo        200 for a ghs_ token of an installation on :owner (a repository of it);
//                                         a token limited to repository_ids: 404 outside them, as GitHub
//   GET /api/v3/installation/repositories 200 { total_count, repository_selection, repositories } for any ghs_ token
//                                         it handed out: the world's repositoriesOf(installation), paged as GitHub pages
import type { IncomingMessage } from "node:http";
import { badCredentials, bearer, json, notFound, paginate, Route } from "./fake-http";
import type { FakeGithub } from "./fake-github";
import { githubRepository } from "../fixtures/github-objects";

const API = "/api/v3";
const MINT = /^\/api\/v3\/app\/installations\/(\d+)\/access_tokens$/;

export function installationApiRoutes(github: Pick<FakeGithub, "installationOfToken" | "limitsOfInstallationToken" | "world" | "url">): Route[] {
  const installationOf = (req: IncomingMessage) => {
    const token = bearer(req);
    const id = token === undefined ? undefined : github.installationOfToken(token);
    return id === undefined ? undefined : github.world.installation(id);
  };
  return [
    [
      "GET",
      new RegExp(`^${API}/repos/([^/]+)/([^/]+)$`),
      (ctx) => {
        const installation = installationOf(ctx.req);
        if (!installation) return badCredentials();
        const [owner, repo] = ctx.params;
        if (installation.account.login.toLowerCase() !== owner.toLowerCase()) return notFound();
        const limited = github.limitsOfInstallationToken(bearer(ctx.req)!)?.repositoryIds;
        const known = github.world.repositoriesOf(installation.id).find((r) => r.name.toLowerCase() === repo.toLowerCase());
        if (limited && (!known || !limited.includes(known.id))) return notFound();
        // A repository the world does not hold is still answered (callers ask for ones they invent), in the same shape.
        return json(200, known ? github.world.repositoryJson(known) : githubRepository({ id: 1, owner: installation.account, name: repo }));
      },
    ],
    [
      "GET",
      new RegExp(`^${API}/installation/repositories$`),
      (ctx) => {
        const installation = installationOf(ctx.req);
        if (!installation) return badCredentials();
        const reached = github.world.repositoriesOf(installation.id);
        const { page, headers } = paginate(reached, ctx.url, github.url);
        return json(
          200,
          { total_count: reached.length, repository_selection: installation.repositorySelection, repositories: page.map(github.world.repositoryJson) },
          headers,
        );
      },
    ],
  ];
}

/** POST /app/installations/:id/access_tokens the fake received (of one installation when given), whatever the answer. */
export function tokenMints(github: Pick<FakeGithub, "requests">, installationId?: number): number {
  return github.requests.filter((r) => {
    const match = r.method === "POST" ? MINT.exec(r.path) : null;
    return match !== null && (installationId === undefined || Number(match[1]) === installationId);
  }).length;
}
