import { createHttpApp } from "../../src/http/create-http-app";
import { snapshotDatabase } from "../helpers/database-snapshot";
import { recordUnexpectedGithubCalls, UnexpectedGithubCalls } from "../helpers/github-app";
import { expectError } from "../helpers/http-expect";
import { ALICE } from "../helpers/users";
import { describeEachWorld, documentedTeamRoutes, idsOf, label, methodOf, Route, ROUTES, send, servedTeamRoutes, World } from "./team-routes";

/**
 * The authorization matrix: every /api/teams/:teamId/… route called by every kind of caller that
 * must be refused, each refusal asserted on status, error shape, "GitHub was not asked" and a
 * database that is row for row what it was; then the same requests from a caller who may, so
 * each refusal is authorization's doing and not a bad request.
 */

interface Caller {
  who: string;
  status: number;
  code: string;
  appliesTo(route: Route): boolean;
  headers(w: World): Record<string, string>;
}

const cookie = (value: string) => ({ cookie: value });

const CALLERS: Caller[] = [
  { who: "someone outside the team", status: 404, code: "not_found", appliesTo: () => true, headers: (w) => cookie(w.outsider) },
  { who: "a member who is not admin", status: 403, code: "forbidden", appliesTo: (r) => r.role === "admin", headers: (w) => cookie(w.member) },
  {
    who: "a revoked API key acting for the admin",
    status: 401,
    code: "unauthenticated",
    appliesTo: () => true,
    headers: (w) => ({ authorization: `Bearer ${w.revokedKey}`, "x-octoplex-user": String(ALICE.id) }),
  },
  { who: "the admin's expired session", status: 401, code: "unauthenticated", appliesTo: () => true, headers: (w) => cookie(w.expiredSession) },
  { who: "the admin's revoked session", status: 401, code: "unauthenticated", appliesTo: () => true, headers: (w) => cookie(w.revokedSession) },
  {
    who: "the admin's session cookie from an instance with another SESSION_SECRET",
    status: 401,
    code: "unauthenticated",
    appliesTo: () => true,
    headers: (w) => cookie(w.otherSecretSession),
  },
  { who: "a caller without credentials", status: 401, code: "unauthenticated", appliesTo: () => true, headers: () => ({}) },
];

const refusals = ROUTES.flatMap((route) =>
  CALLERS.filter((caller) => caller.appliesTo(route)).map((caller) => ({
    name: `${label(route.key)} by ${caller.who} answers ${caller.status} ${caller.code} and ${route.nothing}`,
    route,
    caller,
  })),
);

describeEachWorld("the authorization matrix of /api/teams/:teamId routes", ({ server, db, world, baseline }) => {
  let github: UnexpectedGithubCalls;
  beforeEach(() => {
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => github.stop());

  test("the matrix has a row for every /api/teams/:teamId route the server serves and openapi.yaml documents", () => {
    const matrix = ROUTES.map((r) => r.key).sort();
    expect(servedTeamRoutes(createHttpApp(server().deps))).toEqual(matrix);
    expect(documentedTeamRoutes()).toEqual(matrix);
  });

  test.each(refusals)("$name", async ({ route, caller }) => {
    const w = world();
    const hop = await send(server().url, route, idsOf(w, methodOf(route)), caller.headers(w));

    expectError(hop, caller.status, caller.code);
    expect(github.calls).toEqual([]);
    // Nothing written but, for a wrong key, its count against the address (test/security/rate-limits.test.ts).
    expect(await snapshotDatabase(db(), { except: ["rate_limits"] })).toEqual({ ...baseline(), rate_limits: undefined });
  });

  // The controls: the same requests from callers who may are not refused, so each refusal above is authorization's doing.
  test.each(ROUTES.map((route) => ({ name: `${label(route.key)} by a team ${route.role} is let through`, route })))("$name", async ({ route }) => {
    const w = world();
    const hop = await send(server().url, route, idsOf(w, methodOf(route)), cookie(route.role === "admin" ? w.admin : w.member));
    if (route.allowed === "github") {
      expectError(hop, [502, 503], "github_unavailable");
      expect(github.calls.length).toBeGreaterThan(0);
    } else {
      expect({ status: hop.status, body: hop.body }).toEqual({ status: route.allowed, body: hop.body });
    }
  });

  test.each(ROUTES.map((route) => ({ name: `${label(route.key)} with a working API key is let through on any team`, route })))("$name", async ({ route }) => {
    const w = world();
    const hop = await send(server().url, route, idsOf(w, methodOf(route)), { authorization: `Bearer ${w.key}`, "x-octoplex-user": String(ALICE.id) });
    if (route.allowed === "github") expectError(hop, [502, 503], "github_unavailable");
    else expect({ status: hop.status, body: hop.body }).toEqual({ status: route.allowed, body: hop.body });
  });
});
