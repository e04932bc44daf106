import { Router } from "express";
import type { DatabaseHealth } from "../services/health";

export function createHealthRouter(checkDatabase: () => Promise<DatabaseHealth>): Router {
  const router = Router();
  router.get("/healthz", async (_req, res) => {
    const database = await checkDatabase();
    res.status(database === "ok" ? 200 : 503).json({ status: database === "ok" ? "ok" : "unavailable", database });
  });
  return router;
}
