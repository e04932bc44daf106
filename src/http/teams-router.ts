import { Router } from "express";
import type { AuditTrail } from "../services/teams/audit-trail";
import type { Links } from "../services/teams/links";
import type { Subscriptions } from "../services/teams/subscriptions";
import type { TeamRepositories } from "../services/teams/team-repositories";
import type { Teams } from "../services/teams/teams";
import { actorOf } from "./actor";
import { parseBody, parseParams, parseQuery } from "./validate";
import { auditQuery, createTeamBody, installationParams, linkBody, memberBody, memberParams, scopeBody, subscriptionsBody, teamParams, teamRepositoriesQuery } from "./schemas";

/** /api/teams/…: teams, members and installation links. Mounted behind authenticate(). */
export function createTeamsRouter({
  teams,
  links,
  audit,
  teamRepositories,
  subscriptions,
}: {
  teams: Teams;
  links: Links;
  audit: AuditTrail;
  teamRepositories: TeamRepositories;
  subscriptions: Subscriptions;
}): Router {
  const router = Router();

  router.post("/api/teams", async (req, res) => {
    const { name, admin } = parseBody(createTeamBody, req);
    const team = await teams.create(actorOf(res), name, admin);
    res.status(201).json({ id: team.id, name: team.name });
  });

  router.get("/api/teams", async (_req, res) => {
    res.json((await teams.list(actorOf(res))).map((t) => ({ id: t.id, name: t.name, role: t.role })));
  });

  router.get("/api/teams/:teamId/members", async (req, res) => {
    const { teamId } = parseParams(teamParams, req);
    res.json(await teams.members(actorOf(res), teamId));
  });

  router.put("/api/teams/:teamId/members/:githubUserId", async (req, res) => {
    const { teamId, githubUserId } = parseParams(memberParams, req);
    const { role } = parseBody(memberBody, req);
    res.json(await teams.setMember(actorOf(res), teamId, githubUserId, role));
  });

  router.delete("/api/teams/:teamId/members/:githubUserId", async (req, res) => {
    const { teamId, githubUserId } = parseParams(memberParams, req);
    await teams.removeMember(actorOf(res), teamId, githubUserId);
    res.status(204).end();
  });

  router.get("/api/teams/:teamId/audit", async (req, res) => {
    const { teamId } = parseParams(teamParams, req);
    const { cursor, limit } = parseQuery(auditQuery, req);
    res.json(await audit(teams, actorOf(res), teamId, { cursor, limit }));
  });

  router.get("/api/teams/:teamId/repositories", async (req, res) => {
    const { teamId } = parseParams(teamParams, req);
    res.json(await teamRepositories(teams, actorOf(res), teamId, parseQuery(teamRepositoriesQuery, req)));
  });

  router.get("/api/teams/:teamId/subscriptions", async (req, res) => {
    const { teamId } = parseParams(teamParams, req);
    res.json(await subscriptions.get(actorOf(res), teamId));
  });

  router.put("/api/teams/:teamId/subscriptions", async (req, res) => {
    const { teamId } = parseParams(teamParams, req);
    const { events } = parseBody(subscriptionsBody, req);
    res.json(await subscriptions.put(actorOf(res), teamId, events));
  });

  router.get("/api/teams/:teamId/installations", async (req, res) => {
    const { teamId } = parseParams(teamParams, req);
    res.json(await links.list(actorOf(res), teamId));
  });

  router.get("/api/teams/:teamId/installations/available", async (req, res) => {
    const { teamId } = parseParams(teamParams, req);
    res.json(await links.available(actorOf(res), teamId));
  });

  router.post("/api/teams/:teamId/installations", async (req, res) => {
    const { teamId } = parseParams(teamParams, req);
    const { installationId, repositories } = parseBody(linkBody, req);
    const { created, link } = await links.link(actorOf(res), teamId, installationId, repositories);
    res.status(created ? 201 : 200).json(link);
  });

  router.patch("/api/teams/:teamId/installations/:installationId", async (req, res) => {
    const { teamId, installationId } = parseParams(installationParams, req);
    const { repositories } = parseBody(scopeBody, req);
    res.json(await links.changeScope(actorOf(res), teamId, installationId, repositories));
  });

  router.delete("/api/teams/:teamId/installations/:installationId", async (req, res) => {
    const { teamId, installationId } = parseParams(installationParams, req);
    await links.unlink(actorOf(res), teamId, installationId);
    res.status(204).end();
  });

  return router;
}
