import { Router } from "express";
import type { AuthServices } from "../deps";
import { userOf } from "./authenticate";

/** GET /api/me; mounted behind authenticate(). */
export function createMeRouter(auth: AuthServices): Router {
  const router = Router();
  router.get("/api/me", async (_req, res) => {
    res.json(await auth.describeUser(userOf(res)));
  });
  return router;
}
