// The repositories each installation reaches on the fake GitHub, answered to the installation's
// own token as GitHub pages them; add with `github.addRoutes(repos.routes)`.
//
//   GET /api/v3/installation/repositories   200 { total_count, repositories } (per_page, page, Link)
import { badCredentials, bearer, json, paginate, Route } from "./fake-http";
import type { FakeGithub } from "./fake-github";

export interface FakeRepository {
  id: number;
  full_name: string;
  private: boolean;
}

export function createInstallationRepositories(github: Pick<FakeGithub, "installationOfToken" | "url">) {
  const byInstallation = new Map<number, FakeRepository[]>();
  const routes: Route[] = [
    [
      "GET",
      /^\/api\/v3\/installation\/repositories$/,
      (ctx) => {
        const token = bearer(ctx.req);
        const installationId = token === undefined ? undefined : github.installationOfToken(token);
        if (installationId === undefined) return badCredentials();
        const all = byInstallation.get(installationId) ?? [];
        const { page, headers } = paginate(all, ctx.url, github.url);
        return json(200, { total_count: all.length, repositories: page }, headers);
      },
    ],
  ];
  return {
    routes,
    /** What `installationId` reaches from now on: ids 1…n become `<owner>/repo-<id>`. */
    set(installationId: number, owner: string, ids: number[]) {
      byInstallation.set(installationId, ids.map((id) => ({ id, full_name: `${owner}/repo-${id}`, private: true })));
    },
    reset: () => byInstallation.clear(),
  };
}
