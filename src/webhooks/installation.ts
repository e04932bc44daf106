import { GithubInstallation, toInstallationSnapshot, toRepositories } from "../github/installation-snapshot";
import type { InstallationEvents } from "../services/installations/installation-events";
import { deliveryOf, forAnotherApp as isForAnotherApp, logOutcome } from "./delivery";
import type { DeliveryContext, WebhookApp, WebhookEventName } from "./dispatcher";

export function registerInstallationWebhooks(app: WebhookApp, events: InstallationEvents, appId: number | undefined): void {
  const forAnotherApp = <E extends WebhookEventName>(context: DeliveryContext<E>) => isForAnotherApp(context, appId);

  const snapshotOf = (payload: { installation: unknown }) =>
    toInstallationSnapshot(payload.installation as GithubInstallation);

  app.on("installation.created", async (context) => {
    if (forAnotherApp(context)) return;
    const { payload } = context;
    const outcome = await events.created(deliveryOf(context), snapshotOf(payload), toRepositories(payload.repositories));
    logOutcome(context, outcome);
  });

  app.on("installation.deleted", async (context) => {
    if (forAnotherApp(context)) return;
    logOutcome(context, await events.deleted(deliveryOf(context), context.payload.installation.id));
  });

  app.on("installation.suspend", async (context) => {
    if (forAnotherApp(context)) return;
    const suspendedBy = context.payload.installation.suspended_by?.login ?? context.payload.sender.login;
    logOutcome(context, await events.suspended(deliveryOf(context), snapshotOf(context.payload), suspendedBy));
  });

  app.on("installation.unsuspend", async (context) => {
    if (forAnotherApp(context)) return;
    const { payload } = context;
    logOutcome(context, await events.unsuspended(deliveryOf(context), snapshotOf(payload), toRepositories(payload.repositories)));
  });

  app.on("installation.new_permissions_accepted", async (context) => {
    if (forAnotherApp(context)) return;
    const { payload } = context;
    logOutcome(context, await events.refreshed(deliveryOf(context), snapshotOf(payload), toRepositories(payload.repositories)));
  });

  app.on(["installation_repositories.added", "installation_repositories.removed"], async (context) => {
    if (forAnotherApp(context)) return;
    const { payload } = context;
    const outcome = await events.repositoriesChanged(
      deliveryOf(context),
      snapshotOf(payload),
      toRepositories(payload.repositories_added),
      payload.repositories_removed.map((r) => r.id),
    );
    logOutcome(context, outcome);
  });

  app.on("installation_target.renamed", async (context) => {
    if (forAnotherApp(context)) return;
    const { payload } = context;
    const account = payload.account as { id: number; login?: string; slug?: string };
    const outcome = await events.accountRenamed(deliveryOf(context), payload.installation.id, {
      id: account.id,
      login: account.login ?? account.slug ?? String(account.id),
    });
    logOutcome(context, outcome);
  });

  app.on("github_app_authorization.revoked", async (context) => {
    if (forAnotherApp(context)) return;
    logOutcome(context, await events.authorizationRevoked(deliveryOf(context), context.payload.sender.id));
  });
}
