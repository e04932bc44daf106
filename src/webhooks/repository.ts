import { GithubRepository, toRepository } from "../github/installation-snapshot";
import type { RepositoryEvents } from "../services/installations/repository-events";
import { deliveryOf, forAnotherApp, logOutcome } from "./delivery";
import type { WebhookApp } from "./dispatcher";
import { githubEventOf } from "./team-events";

// Every action that leaves the repository in place, described as it is now.
const CHANGED = [
  "repository.created",
  "repository.renamed",
  "repository.transferred",
  "repository.archived",
  "repository.unarchived",
  "repository.privatized",
  "repository.publicized",
  "repository.edited",
] as const;

export function registerRepositoryWebhooks(app: WebhookApp, events: RepositoryEvents, appId: number | undefined): void {
  app.on("repository.deleted", async (context) => {
    if (forAnotherApp(context, appId)) return;
    logOutcome(context, await events.deleted(deliveryOf(context), context.payload.repository.id, githubEventOf(context)));
  });

  app.on([...CHANGED], async (context) => {
    if (forAnotherApp(context, appId)) return;
    const payload = context.payload as { installation?: { id: number }; repository: GithubRepository };
    // A repository event without an installation is not one this app's installations received.
    if (!payload.installation) return logOutcome(context, "ignored: no installation");
    const outcome = await events.changed(deliveryOf(context), payload.installation.id, {
      repository: toRepository(payload.repository),
      ownerId: payload.repository.owner.id,
    }, githubEventOf(context));
    logOutcome(context, outcome);
  });
}
