import { Router } from "express";
import type { IssueToken } from "../services/github-access/scoped-tokens";
import { actorOf } from "./actor";
import { teamParams, tokenBody } from "./schemas";
import { parseBody, parseParams } from "./validate";

/** Installation tokens for the platform, limited by GitHub to what was asked. Behind authenticate() and the JSON parser. */
export function createTokensRouter({ issueToken }: { issueToken: IssueToken }): Router {
  const router = Router();

  router.post("/api/teams/:teamId/tokens", async (req, res) => {
    const { teamId } = parseParams(teamParams, req);
    const body = parseBody(tokenBody, req);
    const issued = await issueToken(actorOf(res), teamId, body);
    // A credential: no cache, proxy or browser may keep it.
    res.status(201).set("Cache-Control", "no-store").json(issued);
  });

  return router;
}
