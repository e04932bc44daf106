import type { Request, Response } from "express";
import { Router } from "express";
import { CommitContent, CommitRequest, CommitResult, MAX_BYTES, MAX_FILES, MAX_MESSAGE_LENGTH, MAX_PATH_LENGTH } from "../services/github-access/commit-files";
import type { CreatedRepository, NewRepository } from "../services/github-access/create-repository";
import type { Actor } from "../services/teams/teams";
import { actorOf } from "./actor";
import { jsonBody } from "./json-body";
import { commitBody, createRepositoryBody, repositoryParams, teamParams } from "./schemas";
import { parseBody, parseParams } from "./validate";

export interface RepositoryActions {
  createRepository(actor: Actor, teamId: number, input: NewRepository): Promise<CreatedRepository>;
  commitFiles(
    actor: Actor,
    teamId: number,
    target: Pick<CommitRequest, "owner" | "repo">,
    readContent: () => Promise<CommitContent>,
  ): Promise<CommitResult>;
}

// The largest body a commit can use: MAX_BYTES of files base64-encoded (4 characters for 3 bytes),
// each of MAX_FILES files with the longest path (git paths are ASCII in practice) and the JSON
// around it, and the longest message in UTF-8, plus a kilobyte for the branch names and braces.
const FILE_JSON_BYTES = '{"path":"","content":"","encoding":"base64"},'.length;
export const COMMIT_BODY_LIMIT = Math.ceil(MAX_BYTES / 3) * 4 + MAX_FILES * (MAX_PATH_LENGTH + FILE_JSON_BYTES) + MAX_MESSAGE_LENGTH * 4 + 1024;
const readCommitBody = jsonBody(COMMIT_BODY_LIMIT);

/** The commit's body, read now: a request handler's promise of what jsonBody() would leave in req.body. */
function commitContent(req: Request, res: Response): Promise<CommitContent> {
  return new Promise((resolve, reject) => {
    readCommitBody(req, res, (error?: unknown) => {
      if (error) reject(error);
      else {
        try {
          resolve(parseBody(commitBody, req));
        } catch (invalid) {
          reject(invalid);
        }
      }
    });
  });
}

/** Acting on GitHub for a team. Mounted behind authenticate(), before the default JSON parser. */
export function createRepositoriesRouter(actions: RepositoryActions): Router {
  const router = Router();

  router.post("/api/teams/:teamId/repositories", jsonBody(100 * 1024), async (req, res) => {
    const { teamId } = parseParams(teamParams, req);
    const input = parseBody(createRepositoryBody, req);
    res.status(201).json(await actions.createRepository(actorOf(res), teamId, input));
  });

  // No body parser in front: the service reads the body once the caller may commit there.
  router.post("/api/teams/:teamId/repositories/:owner/:repo/commits", async (req, res) => {
    const { teamId, owner, repo } = parseParams(repositoryParams, req);
    res.status(201).json(await actions.commitFiles(actorOf(res), teamId, { owner, repo }, () => commitContent(req, res)));
  });

  return router;
}
