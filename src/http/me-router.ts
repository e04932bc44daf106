import { Router } from "express";
import type { AuthServices } from "../deps";
import { keyReaches } from "../services/teams/teams";
import { actorOf } from "./actor";
import { userOf } from "./authenticate";

/** GET /api/me; mounted behind authenticate(). */
export function createMeRouter(auth: AuthServices): Router {
  const router = Router();
  router.get("/api/me", async (_req, res) => {
    const me = await auth.describeUser(userOf(res));
    // A key limited to teams does not learn of the user's other teams, as GET /api/teams does not list them.
    const actor = actorOf(res);
    res.json({ ...me, teams: me.teams.filter((t) => keyReaches(actor, t.id)) });
  });
  return router;
}
