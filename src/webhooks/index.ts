import type { Probot } from "probot";
import type { Services } from "../deps";
import { registerInstallationWebhooks } from "./installation";
import { registerMarketplaceWebhooks } from "./marketplace-purchase";

export function registerWebhooks(
  app: Probot,
  services: Pick<Services, "installationEvents" | "marketplaceEvents">,
  appId: number | undefined,
): void {
  registerInstallationWebhooks(app, services.installationEvents, appId);
  registerMarketplaceWebhooks(app, services.marketplaceEvents);
}
