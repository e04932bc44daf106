import type { Response } from "express";
import type { Actor } from "../services/teams/teams";
import { callerOf } from "./authenticate";

/** The authenticated caller as the services see it. */
export function actorOf(res: Response): Actor {
  const caller = callerOf(res);
  return caller.kind === "session"
    ? { kind: "user", userId: caller.userId }
    : { kind: "api_key", apiKeyId: caller.apiKeyId, userId: caller.userId, teamIds: caller.teamIds };
}
