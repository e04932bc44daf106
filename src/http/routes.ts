import { Router } from "express";
import type { Deps } from "../deps";
import { checkDatabase } from "../services/health";
import { createHealthRouter } from "./health-router";

/** Every route except GitHub's webhooks: shared by `npm start`, `probot run` and Lambda. */
export function createRoutes(deps: Pick<Deps, "db">): Router {
  const router = Router();
  router.use(createHealthRouter(() => checkDatabase(deps.db)));
  return router;
}
