import express, { Express } from "express";
import type { Deps } from "../deps";
import { registerWebhooks } from "../webhooks";
import { createWebhookDispatcher } from "../webhooks/dispatcher";
import { errorMiddleware, notFound } from "./error-middleware";
import { createRoutes } from "./routes";
import { createWebhookRouter } from "./webhook-route";

export function createHttpApp(deps: Deps): Express {
  if (!deps.probot) throw new Error("the HTTP app needs the GitHub App's id and private key");
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  const dispatcher = createWebhookDispatcher(deps.log.child({ name: "probot" }));
  registerWebhooks(dispatcher, deps.services, deps.config.appId);
  app.use(createWebhookRouter(deps.probot, dispatcher, deps.log));
  app.use(createRoutes(deps));
  app.use(notFound);
  app.use(errorMiddleware(deps.log));
  return app;
}
