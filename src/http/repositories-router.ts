import express, { Router } from "express";
import type { CommitRequest } from "../services/commit-files";
import type { CreatedRepository, NewRepository } from "../services/create-repository";
import type { Actor } from "../services/teams";
import { actorOf } from "./actor";
import { commitBody, createRepositoryBody, repositoryParams, teamParams } from "./schemas";
import { parseBody, parseParams } from "./validate";

export interface RepositoryActions {
  createRepository(actor: Actor, teamId: number, input: NewRepository): Promise<CreatedRepository>;
  commitFiles(actor: Actor, teamId: number, request: CommitRequest): Promise<{ sha: string; htmlUrl: string }>;
}

// Up to 50 MB of files, base64 in JSON: about a third more on the wire.
const COMMIT_BODY_LIMIT = "70mb";

/** Acting on GitHub for a team. Mounted behind authenticate(), before the default JSON parser. */
export function createRepositoriesRouter(actions: RepositoryActions): Router {
  const router = Router();

  router.post("/api/teams/:teamId/repositories", express.json({ limit: "100kb" }), async (req, res) => {
    const { teamId } = parseParams(teamParams, req);
    const input = parseBody(createRepositoryBody, req);
    res.status(201).json(await actions.createRepository(actorOf(res), teamId, input));
  });

  router.post("/api/teams/:teamId/repositories/:owner/:repo/commits", express.json({ limit: COMMIT_BODY_LIMIT }), async (req, res) => {
    const { teamId, owner, repo } = parseParams(repositoryParams, req);
    const body = parseBody(commitBody, req);
    res.status(201).json(await actions.commitFiles(actorOf(res), teamId, { owner, repo, ...body }));
  });

  return router;
}
