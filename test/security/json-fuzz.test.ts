import fc from "fast-check";
import { countRows } from "../helpers/factories";
import { describeEachServer } from "../helpers/test-server";
import { ALICE, seedSignedInUser } from "../helpers/users";

// Every JSON route, with path ids that exist (team 1) so the body is what gets exercised.
const ROUTES: Array<[method: string, path: string]> = [
  ["POST", "/api/teams"],
  ["PUT", "/api/teams/1/members/5001"],
  ["POST", "/api/teams/1/installations"],
  ["POST", "/api/teams/1/repositories"],
  ["POST", "/api/teams/1/repositories/acme/widgets/commits"],
];

// Random JSON, plus values shaped like what the routes expect, so validation is probed near its edges.
const nearMiss = fc.oneof(
  fc.record({ name: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }, { requiredKeys: [] }),
  fc.record({ role: fc.oneof(fc.constantFrom("admin", "member", "owner", ""), fc.anything()) }, { requiredKeys: [] }),
  fc.record({ installationId: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(Number.MAX_SAFE_INTEGER + 2)) }, { requiredKeys: [] }),
  fc.record(
    {
      branch: fc.string(),
      message: fc.string(),
      files: fc.array(fc.record({ path: fc.string(), content: fc.string(), encoding: fc.constantFrom("utf-8", "base64", "hex") }), { maxLength: 3 }),
    },
    { requiredKeys: [] },
  ),
);
const body = fc.oneof(fc.jsonValue(), nearMiss);

describeEachServer("random JSON bodies", ({ server, db }) => {
  test("no JSON route answers 500 to any body, and refused bodies write nothing", async () => {
    // Alice administers team 1, so requests get past authorization to the body's validation.
    await seedSignedInUser(server().deps, ALICE);
    await server().deps.services.auth!.teams.create({ kind: "user", userId: ALICE.id }, "fuzz");
    const session = await server().deps.services.auth!.sessions.create(ALICE.id);
    const cookie = `octoplex_session=${session.id}`;

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), body, async ([method, path], value) => {
        const teamsBefore = await countRows(db(), "teams");
        const res = await fetch(`${server().url}${path}`, {
          method,
          headers: { "content-type": "application/json", cookie },
          body: JSON.stringify(value),
        });
        const answer = (await res.json()) as { error?: { code: string } };
        // nock allows no GitHub call here: a body that passes validation fails upstream as 4xx/5xx with the error shape.
        expect(res.status).not.toBe(500);
        if (res.status >= 400) expect(answer.error?.code).toEqual(expect.any(String));
        if (res.status >= 400 && path === "/api/teams") expect(await countRows(db(), "teams")).toBe(teamsBefore);
      }),
      { numRuns: 150, seed: 20261125 },
    );
  }, 60_000);
});
