import type { Knex } from "knex";
import type { Logger } from "pino";
import { Probot, ProbotOctokit } from "probot";
import type { Config } from "./config";
import { createKnex, KnexOptions } from "./db/knex";
import { listAppInstallations } from "./github/app-installations";
import { createLogger } from "./logger";
import { createDeliveryLedger } from "./services/delivery-ledger";
import { createInstallationEvents } from "./services/installation-events";
import { createMarketplaceEvents } from "./services/marketplace-events";
import { createReconcileService } from "./services/reconcile";

export interface DepsOverrides {
  log?: Logger;
  now?: () => Date;
  /** Tests pass an Octokit with retries and throttling off. */
  Octokit?: typeof ProbotOctokit;
  /** Under `probot run`, Probot builds the instance and hands it to the app function. */
  probot?: Probot;
  knex?: KnexOptions;
}

export interface Deps {
  config: Config;
  db: Knex;
  log: Logger;
  now: () => Date;
  /** Present when the config has the app's id and key (not for `octoplex migrate`). */
  probot?: Probot;
  services: ReturnType<typeof createServices>;
  close(): Promise<void>;
}

export type Services = Deps["services"];

/** The composition root: the one place that constructs things and decides who gets what. */
export function createDeps(config: Config, overrides: DepsOverrides = {}): Deps {
  const log = overrides.log ?? createLogger(config);
  const now = overrides.now ?? (() => new Date());
  const db = createKnex(config.database, overrides.knex);
  const probot = overrides.probot ?? createProbot(config, log, overrides.Octokit);
  const services = createServices({ db, now, probot });
  return {
    config,
    db,
    log,
    now,
    probot,
    services,
    close: () => db.destroy(),
  };
}

function createProbot(config: Config, log: Logger, Octokit?: typeof ProbotOctokit): Probot | undefined {
  if (!config.appId || !config.privateKey) return undefined;
  return new Probot({
    appId: config.appId,
    privateKey: config.privateKey,
    secret: config.webhookSecret,
    baseUrl: config.githubBaseUrl,
    log: log.child({ name: "probot" }),
    ...(Octokit ? { Octokit } : {}),
  });
}

function createServices({ db, now, probot }: { db: Knex; now: () => Date; probot?: Probot }) {
  const ledger = createDeliveryLedger(db, now);
  return {
    installationEvents: createInstallationEvents({ ledger, now }),
    marketplaceEvents: createMarketplaceEvents({ ledger, now }),
    reconcile: createReconcileService({
      db,
      now,
      listGithubInstallations: async (onPage) => {
        if (!probot) throw new Error("reconcile needs APP_ID and the private key");
        return listAppInstallations(await probot.auth(), onPage);
      },
    }),
  };
}
