import express, { NextFunction, Request, RequestHandler, Response, Router } from "express";
import { z } from "zod";
import type { AuthServices } from "../deps";
import { AppError, ReauthorizationRequired } from "../errors";
import type { ReachableInstallation } from "../services/teams/links";
import { readSessionCookie } from "./session-cookie";
import { connectQuery, linkForm, installationForm, pickForm, pickerUrl, scopeForm, setupQuery, teamForm } from "./page-forms";
import { id } from "./schemas";
import { connectPage, ConnectPageModel } from "./views/connect-page";
import { homePage, signedOutPage } from "./views/home-page";
import { errorPage } from "./views/layout";
import { pickTeamPage, requestSentPage } from "./views/setup-page";

interface PageSession {
  userId: number;
  sessionId: string;
  login: string;
  csrf: string;
}

const loginUrl = (returnTo: string) => `/auth/login?return_to=${encodeURIComponent(returnTo)}`;

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new AppError("invalid_input", "The request is missing a field or has a malformed one");
  return result.data;
}

/**
 * The server-rendered pages: home, the team's connect page, GitHub's setup URL. Browsers get HTML
 * (errors too); form posts carry a CSRF token derived from the session.
 */
export function createPagesRouter(auth: AuthServices): Router {
  const router = Router();
  // Browsers never compress a form; a gzip body would only be inflated for an attacker.
  const form = express.urlencoded({ extended: false, limit: "10kb", inflate: false });

  async function optionalSession(req: Request): Promise<PageSession | undefined> {
    const sessionId = readSessionCookie(req, auth.secureCookies);
    const userId = sessionId ? await auth.sessions.resolve(sessionId) : undefined;
    if (!sessionId || userId === undefined) return undefined;
    const me = await auth.describeUser(userId);
    return { userId, sessionId, login: me.user.login, csrf: auth.sessions.csrfToken(sessionId) };
  }

  /** The signed-in person, or a redirect to sign-in (GET) / a 401 page (POST). */
  async function session(req: Request, res: Response): Promise<PageSession | undefined> {
    const s = await optionalSession(req);
    if (!s && req.method === "GET") res.redirect(302, loginUrl(req.originalUrl));
    else if (!s) res.status(401).type("html").send(errorPage(401, "Your session has ended; sign in again."));
    return s;
  }

  /** A form post's fields, after its CSRF token proved it came from one of our pages. */
  function formOf<T extends z.ZodType<{ csrf: string }>>(schema: T, req: Request, s: PageSession): z.infer<T> {
    const body = parse(schema, req.body);
    if (!auth.sessions.verifyCsrf(s.sessionId, body.csrf)) throw new AppError("forbidden", "The form expired; reload the page and try again");
    return body;
  }

  /** Runs a page handler and renders any failure as an HTML page. */
  const page =
    (handler: (req: Request, res: Response, s: PageSession) => Promise<void>): RequestHandler =>
    async (req: Request, res: Response, _next: NextFunction) => {
      let s: PageSession | undefined;
      try {
        s = await session(req, res);
        if (s) await handler(req, res, s);
      } catch (error) {
        if (error instanceof ReauthorizationRequired && req.method === "GET") return res.redirect(302, loginUrl(req.originalUrl));
        const status = error instanceof AppError ? error.status : 500;
        const message = error instanceof AppError ? error.message : "Something went wrong; the error has been logged.";
        if (!(error instanceof AppError)) throw error;
        res.status(status).type("html").send(errorPage(status, message, s, backFrom(req)));
      }
    };

  /** Where an error page's Back button leads: the team's connect page (at the picker a form came from), else home. */
  function backFrom(req: Request): string {
    const teamId = id.safeParse(req.params.teamId);
    if (!teamId.success) return "/";
    const installation = id.safeParse((req.body as Record<string, unknown> | undefined)?.installation_id ?? req.query.installation);
    const picker = /\/repositories(\/refresh)?$/.test(req.path) || req.method === "GET";
    return installation.success && picker ? pickerUrl(teamId.data, installation.data) : `/teams/${teamId.data}/connect`;
  }

  router.get("/", async (req, res) => {
    const s = await optionalSession(req);
    if (!s) {
      res.type("html").send(signedOutPage());
      return;
    }
    const teams = await auth.teams.mine(s.userId);
    res.type("html").send(homePage({ user: s, teams, csrf: s.csrf }));
  });

  router.post(
    "/teams",
    form,
    page(async (req, res, s) => {
      const body = formOf(teamForm, req, s);
      const team = await auth.teams.create({ kind: "user", userId: s.userId }, body.name);
      res.redirect(303, `/teams/${team.id}/connect`);
    }),
  );

  router.get(
    "/teams/:teamId/connect",
    page(async (req, res, s) => {
      const teamId = parse(z.object({ teamId: id }), req.params).teamId;
      const query = parse(connectQuery, req.query);
      const actor = { kind: "user" as const, userId: s.userId };
      const team = await auth.teams.access(actor, teamId, "member");
      const me = await auth.describeUser(s.userId);
      const canManage = me.teams.some((t) => t.id === teamId && t.role === "admin");
      const linked = await auth.links.list(actor, teamId);
      let reachable: ReachableInstallation[] | null = null;
      let installUrl: string | null = null;
      let reauthorize: string | null = null;
      try {
        ({ installations: reachable, installUrl } = await auth.links.available(actor, teamId));
      } catch (error) {
        if (!(error instanceof ReauthorizationRequired)) throw error;
        reauthorize = loginUrl(req.originalUrl);
      }
      let picker: ConnectPageModel["picker"];
      const opened = linked.find((l) => l.installationId === query.installation);
      if (query.installation !== undefined && !opened) throw new AppError("not_found", `Installation ${query.installation} is not connected to this team`);
      if (opened && canManage) {
        const choices = await auth.linkRepositories.list(actor, teamId, opened.installationId, { q: query.q || undefined });
        picker = { login: opened.account.login, q: query.q, choices, notice: query.notice };
      }
      res.type("html").send(connectPage({ team, user: s, csrf: s.csrf, linked, reachable, installUrl, reauthorize, canManage, picker }));
    }),
  );

  for (const verb of ["link", "unlink"] as const) {
    router.post(
      `/teams/:teamId/connect/${verb}`,
      form,
      page(async (req, res, s) => {
        const teamId = parse(z.object({ teamId: id }), req.params).teamId;
        const body = formOf(linkForm, req, s);
        const actor = { kind: "user" as const, userId: s.userId };
        if (verb === "unlink") await auth.links.unlink(actor, teamId, body.installation_id);
        else if (body.repositories === "all") await auth.links.link(actor, teamId, body.installation_id);
        else {
          // A second post of the form (a double click, a stale tab) must not empty a scope chosen since.
          const linked = (await auth.links.list(actor, teamId)).some((l) => l.installationId === body.installation_id);
          if (linked) return res.redirect(303, pickerUrl(teamId, body.installation_id));
          await auth.links.link(actor, teamId, body.installation_id, []);
          return res.redirect(303, pickerUrl(teamId, body.installation_id, { notice: "connected" }));
        }
        res.redirect(303, `/teams/${teamId}/connect`);
      }),
    );
  }

  router.post(
    "/teams/:teamId/connect/repositories",
    form,
    page(async (req, res, s) => {
      const teamId = parse(z.object({ teamId: id }), req.params).teamId;
      const body = formOf(scopeForm, req, s);
      const pick = body.scope === "all" ? { all: true as const } : { all: false as const, shown: body.shown, checked: body.repository };
      await auth.linkRepositories.pick({ kind: "user", userId: s.userId }, teamId, body.installation_id, pick);
      res.redirect(303, pickerUrl(teamId, body.installation_id, { q: body.q, notice: "saved" }));
    }),
  );

  router.post(
    "/teams/:teamId/connect/repositories/refresh",
    form,
    page(async (req, res, s) => {
      const teamId = parse(z.object({ teamId: id }), req.params).teamId;
      const body = formOf(installationForm, req, s);
      await auth.linkRepositories.refresh({ kind: "user", userId: s.userId }, teamId, body.installation_id);
      res.redirect(303, pickerUrl(teamId, body.installation_id, { notice: "refreshed" }));
    }),
  );

  router.get(
    "/setup",
    page(async (req, res, s) => {
      const query = parse(setupQuery, req.query);
      if (query.installation_id === undefined) {
        // A member asked the organization's owners to approve the install: nothing exists yet.
        if (query.setup_action === "request") return void res.type("html").send(requestSentPage(s));
        throw new AppError("invalid_input", "GitHub did not say which installation this is (installation_id is missing)");
      }
      const outcome = await auth.setup.handle(s.userId, {
        installationId: query.installation_id,
        setupAction: query.setup_action,
        state: query.state,
      });
      if (outcome.kind === "linked") return res.redirect(302, outcome.redirectTo);
      res.type("html").send(pickTeamPage({ installation: outcome.installation, teams: outcome.teams, csrf: s.csrf, user: s }));
    }),
  );

  router.post(
    "/setup/link",
    form,
    page(async (req, res, s) => {
      const body = formOf(pickForm, req, s);
      const choice = body.team_id ? { teamId: body.team_id } : body.new_team_name ? { newTeamName: body.new_team_name } : undefined;
      if (!choice) throw new AppError("invalid_input", "Choose a team or name a new one");
      const none = body.repositories === "selected";
      const { teamId, redirectTo } = await auth.setup.linkToPickedTeam(s.userId, body.installation_id, choice, none ? [] : "all");
      res.redirect(303, none ? pickerUrl(teamId, body.installation_id, { notice: "connected" }) : redirectTo);
    }),
  );

  return router;
}
