import type { FakeRepository, RepositoryOptions } from "../fakes/github-world";
import { installationRepositoriesEvent, repository } from "../fixtures/payloads";
import type { E2E } from "./e2e";

/**
 * New repositories of an installation's account that the installation reaches on the fake GitHub,
 * and GitHub's `installation_repositories.added` for them sent to Octoplex (signed, over HTTP),
 * which stores them: what a person sees once they select repositories for the app on GitHub.
 */
export async function addReachedRepositories(e2e: E2E, installationId: number, repositories: RepositoryOptions[]): Promise<FakeRepository[]> {
  const { world } = e2e.github;
  const installation = world.installation(installationId);
  if (!installation) throw new Error(`the fake GitHub has no installation ${installationId}`);
  const added = repositories.map((r) => world.addRepository(installation.account, r));
  world.selectRepositories(installationId, [...installation.selectedRepositoryIds, ...added.map((r) => r.id)]);
  const payload = {
    ...installationRepositoriesEvent("added", { id: installationId, repositorySelection: installation.repositorySelection }, {
      added: added.map((r) => repository(r.id, `${r.owner.login}/${r.name}`, r.private)),
    }),
    // The installation as the fake has it (its avatar URL, say), not the fixture's default account.
    installation: world.installationJson(installation),
  };
  const answer = await e2e.server.sendWebhook("installation_repositories", payload);
  if (answer.status !== 200) throw new Error(`installation_repositories.added answered ${answer.status}`);
  return added;
}
