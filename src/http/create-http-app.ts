import express, { Express } from "express";
import type { Deps } from "../deps";
import { errorMiddleware, notFound } from "./error-middleware";
import { createRoutes } from "./routes";
import { createWebhookRouter } from "./webhook-route";

export function createHttpApp(deps: Deps): Express {
  if (!deps.probot) throw new Error("the HTTP app needs the GitHub App's id and private key");
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  app.use(createWebhookRouter(deps.probot, deps.log));
  app.use(createRoutes(deps));
  app.use(notFound);
  app.use(errorMiddleware(deps.log));
  return app;
}
