import type { Services } from "../deps";
import type { WebhookApp } from "./dispatcher";
import { registerInstallationWebhooks } from "./installation";
import { registerMarketplaceWebhooks } from "./marketplace-purchase";
import { registerRepositoryWebhooks } from "./repository";
import { registerTeamEventWebhooks } from "./team-events";

export function registerWebhooks(
  app: WebhookApp,
  services: Pick<Services, "installationEvents" | "marketplaceEvents" | "repositoryEvents" | "teamEvents">,
  appId: number | undefined,
): void {
  registerInstallationWebhooks(app, services.installationEvents, appId);
  registerMarketplaceWebhooks(app, services.marketplaceEvents);
  registerRepositoryWebhooks(app, services.repositoryEvents, appId);
  registerTeamEventWebhooks(app, services.teamEvents, appId);
}
