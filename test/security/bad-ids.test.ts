import { snapshotDatabase } from "../helpers/database-snapshot";
import { recordUnexpectedGithubCalls, UnexpectedGithubCalls } from "../helpers/github-app";
import { expectError } from "../helpers/http-expect";
import { ALICE } from "../helpers/users";
import { describeEachWorld, IdSlot, Ids, idsOf, label, methodOf, Route, ROUTES, send, World } from "./team-routes";

/**
 * Ids that are not ids, in every place a /api/teams/:teamId route takes one (path segments and
 * body fields), sent by callers who may otherwise do the call: 400 invalid_input, never a 500,
 * GitHub not asked and not a row written. Ids that are well formed but name nothing: 404.
 */

// Letters, signs, fractions, SQL, zero, exponent and hex forms, padding, traversal, a NUL, and
// numbers beyond what any table holds (past 2^53 Number() rounds to a neighbouring id).
const BAD_IDS = [
  "abc",
  "-1",
  "1.5",
  "1 OR 1=1",
  "1;DROP TABLE teams",
  "1' OR '1'='1",
  "0",
  "1e3",
  "0x1F",
  " 1",
  "01",
  "../1",
  "1\u0000",
  "99999999999999999999",
  "9007199254740993",
];
// In a JSON body an id may also come as a JSON number, or as no number at all.
const BAD_BODY_IDS: unknown[] = [...BAD_IDS, -1, 1.5, 0, 1e21, 9007199254740993, null, true, [73001], { id: 73001 }];
// Not GitHub names: SQL, dot segments (a path traversal once in GitHub's URL), spaces, markup, too long.
const BAD_NAMES = ["acme' OR '1'='1", "acme;DROP TABLE teams", "..", ".", "a b", "<script>", "x".repeat(101), ""];

const SLOTS: IdSlot[] = ["teamId", "githubUserId", "installationId", "owner", "repo"];
const MARK = "SLOT-PROBE";

/** The id slots a route's request carries: those whose value shows up in its path or body. */
function slotsOf(route: Route, w: World): IdSlot[] {
  return SLOTS.filter((slot) => {
    const probe = route.build(idsOf(w, methodOf(route), { [slot]: MARK } as Partial<Ids>));
    return `${probe.path} ${JSON.stringify(probe.body ?? null)}`.includes(MARK);
  });
}

/** Where the slot sits in this route, for the test name. */
function place(route: Route, slot: IdSlot): string {
  return route.key.includes(`{${slot}}`) ? `path ${slot}` : `body ${slot === "repo" ? "name" : slot}`;
}

function badValues(route: Route, slot: IdSlot): unknown[] {
  if (slot === "owner" || slot === "repo") return BAD_NAMES.filter((n) => n !== "" || !route.key.includes(`{${slot}}`));
  return route.key.includes(`{${slot}}`) ? BAD_IDS : BAD_BODY_IDS;
}

// Every (route, slot) pair, found on a world whose ids are placeholders (slotsOf only builds requests).
const PLACEHOLDER = { teamId: 1, installationId: 2 } as World;
const CASES = ROUTES.flatMap((route) => slotsOf(route, PLACEHOLDER).map((slot) => ({ route, slot })));

describeEachWorld("malformed ids on /api/teams/:teamId routes", ({ server, db, world, baseline }) => {
  let github: UnexpectedGithubCalls;
  beforeEach(() => {
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => github.stop());

  const callers = (w: World): Array<[string, Record<string, string>]> => [
    ["the team's admin", { cookie: w.admin }],
    ["an API key acting for the admin", { authorization: `Bearer ${w.key}`, "x-octoplex-user": String(ALICE.id) }],
  ];

  test("every route carries a team id, and the id slots found are the ones the paths and bodies name", () => {
    expect(CASES.filter((c) => c.slot === "teamId").map((c) => c.route.key)).toEqual(ROUTES.map((r) => r.key));
    expect(CASES.map((c) => `${c.route.key} ${c.slot}`)).toEqual(
      expect.arrayContaining([
        "PUT /api/teams/{teamId}/members/{githubUserId} githubUserId",
        "DELETE /api/teams/{teamId}/members/{githubUserId} githubUserId",
        "POST /api/teams/{teamId}/installations installationId",
        "DELETE /api/teams/{teamId}/installations/{installationId} installationId",
        "POST /api/teams/{teamId}/repositories installationId",
        "POST /api/teams/{teamId}/repositories repo",
        "POST /api/teams/{teamId}/repositories/{owner}/{repo}/commits owner",
        "POST /api/teams/{teamId}/repositories/{owner}/{repo}/commits repo",
      ]),
    );
  });

  test.each(
    ROUTES.map((route) => {
      const slots = CASES.filter((c) => c.route === route).map((c) => c.slot);
      return { route, slots, name: `${label(route.key)} answers 400 invalid_input to every malformed ${slots.map((s) => place(route, s)).join(" and ")}, and writes nothing` };
    }),
  )("$name", async ({ route, slots }) => {
    const w = world();
    for (const slot of slots) {
      for (const bad of badValues(route, slot)) {
        const hop = await send(server().url, route, idsOf(w, methodOf(route), { [slot]: bad } as Partial<Ids>), { cookie: w.admin });
        expect({ slot, bad, status: hop.status }).toEqual({ slot, bad, status: 400 });
        expectError(hop, 400, "invalid_input");
      }
    }
    expect(github.calls).toEqual([]);
    expect(await snapshotDatabase(db())).toEqual(baseline());
  });

  // 2^31 and 2^53 - 1 are well formed: beyond the teams.id column, or simply no team; never a database error.
  test.each(ROUTES.map((route) => ({ route, name: `${label(route.key)} answers 404 not_found to a well-formed team id that names no team and writes nothing` })))(
    "$name",
    async ({ route }) => {
      const w = world();
      for (const [who, headers] of callers(w)) {
        for (const unknown of [String(w.teamId + 1000), "2147483647", "2147483648", "9007199254740991"]) {
          const hop = await send(server().url, route, idsOf(w, methodOf(route), { teamId: unknown }), headers);
          expect({ who, unknown, status: hop.status }).toEqual({ who, unknown, status: 404 });
          expectError(hop, 404, "not_found");
        }
      }
      expect(github.calls).toEqual([]);
      expect(await snapshotDatabase(db())).toEqual(baseline());
    },
  );

  const LARGEST_SAFE: Array<[key: string, ids: Partial<Ids>]> = [
    ["DELETE /api/teams/{teamId}/members/{githubUserId}", { githubUserId: "9007199254740991" }],
    ["DELETE /api/teams/{teamId}/installations/{installationId}", { installationId: "9007199254740991" }],
    ["POST /api/teams/{teamId}/repositories", { installationId: 9007199254740991 }],
  ];
  test.each(
    LARGEST_SAFE.map(([key, ids]) => ({
      route: ROUTES.find((r) => r.key === key)!,
      ids,
      name: `${label(key)} answers 404 not_found to the largest safe ${Object.keys(ids)[0]}, which names nothing, and writes nothing`,
    })),
  )("$name", async ({ route, ids }) => {
    const w = world();
    const hop = await send(server().url, route, idsOf(w, methodOf(route), ids), { cookie: w.admin });
    expectError(hop, 404, "not_found");
    expect(github.calls).toEqual([]);
    expect(await snapshotDatabase(db())).toEqual(baseline());
  });
});
