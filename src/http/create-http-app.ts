import express, { Express } from "express";
import type { Deps } from "../deps";
import { registerWebhooks } from "../webhooks";
import { createWebhookDispatcher } from "../webhooks/dispatcher";
import { errorMiddleware, notFound } from "./error-middleware";
import { createRoutes } from "./routes";
import { securityHeadersMiddleware } from "./security-headers";
import { createWebhookHandler, createWebhookRouter, WebhookHandler } from "./webhook-route";

/** The webhook handler with Octoplex's handlers registered on a dispatcher of its own. */
export function webhookHandlerOf(deps: Deps): WebhookHandler {
  if (!deps.probot) throw new Error("the HTTP app needs the GitHub App's id and private key");
  if (!deps.config.webhookSecret) throw new Error("the HTTP app needs WEBHOOK_SECRET to verify GitHub's deliveries");
  const dispatcher = createWebhookDispatcher(deps.log.child({ name: "probot" }));
  registerWebhooks(dispatcher, deps.services, deps.config.appId);
  return createWebhookHandler(deps.config.webhookSecret, dispatcher, deps.log);
}

export function createHttpApp(deps: Deps, webhook: WebhookHandler = webhookHandlerOf(deps)): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  app.use(securityHeadersMiddleware(deps.config.baseUrl));
  app.use(createWebhookRouter(webhook));
  app.use(createRoutes(deps));
  app.use(notFound);
  app.use(errorMiddleware(deps.log));
  return app;
}
