import { apiGatewayV2Event, EVENT_SHAPES, setCookiesOf } from "../fixtures/lambda-events";
import { Hop, request } from "../helpers/browser";
import { createTestDatabase, TestDatabase } from "../helpers/databases";
import { newTokens, nockCodeExchange, nockGetUser } from "../helpers/github-oauth";
import { signedInMember } from "../helpers/team-access";
import { startTestLambda, TestLambda } from "../helpers/test-lambda";
import { describeEachServer } from "../helpers/test-server";
import { ALICE } from "../helpers/users";

/**
 * Cookie tossing: a sibling subdomain (or a man in the middle on http://sub.example) can set a
 * cookie for the parent domain, e.g. its own sign-in state, and so sign a victim in as the
 * attacker (login CSRF). Under https the cookies carry the __Host- prefix, which a browser
 * accepts only from this very origin (Secure, Path=/, no Domain); only those names are read.
 */
const HTTPS_BASE_URL = "https://octoplex.example.com";

describeEachServer(
  "cookies when BASE_URL is https",
  ({ server, db }) => {
    const url = (path: string) => `${server().url}${path}`;

    async function startLogin(): Promise<{ hop: Hop; state: string }> {
      const hop = await request(url("/auth/login?return_to=%2F"));
      return { hop, state: new URL(hop.location!).searchParams.get("state")! };
    }

    /** Name, value and the attributes of a Set-Cookie header, attribute names lower-cased. */
    function parseSetCookie(header: string) {
      const [pair, ...attributes] = header.split(";").map((p) => p.trim());
      const names = attributes.map((a) => a.split("=")[0].toLowerCase());
      return { name: pair.slice(0, pair.indexOf("=")), attributes, names };
    }

    const expectHostCookie = (header: string | undefined, name: string) => {
      const cookie = parseSetCookie(header ?? "");
      expect(cookie.name).toBe(name);
      expect(cookie.attributes).toEqual(expect.arrayContaining(["Path=/", "Secure", "HttpOnly", "SameSite=Lax"]));
      expect(cookie.names).not.toContain("domain");
    };

    test("GET /auth/login sets the sign-in state cookie as __Host-octoplex_login_state; Secure; Path=/", async () => {
      const { hop } = await startLogin();
      expect(hop.setCookies).toHaveLength(1);
      expectHostCookie(hop.setCookies[0], "__Host-octoplex_login_state");
    });

    test("GET /auth/callback sets __Host-octoplex_session; Secure; Path=/ and clears the __Host- state cookie", async () => {
      const { state } = await startLogin();
      const tokens = newTokens();
      nockCodeExchange("code-1", tokens);
      nockGetUser(tokens.token, ALICE);
      const hop = await request(url(`/auth/callback?code=code-1&state=${encodeURIComponent(state)}`), { cookie: `__Host-octoplex_login_state=${state}` });
      expect(hop.status).toBe(302);
      expect(hop.setCookies.map((c) => parseSetCookie(c).name)).toEqual(["__Host-octoplex_session", "__Host-octoplex_login_state"]);
      expectHostCookie(hop.setCookies[0], "__Host-octoplex_session");
      expectHostCookie(hop.setCookies[1], "__Host-octoplex_login_state");

      const me = await request(url("/api/me"), { cookie: hop.setCookies[0].split(";")[0] });
      expect(me.status).toBe(200);
    });

    test("GET /auth/callback with a planted unprefixed octoplex_login_state cookie answers 400 and signs nobody in", async () => {
      // The attacker started a sign-in, planted its state in the victim's browser from a sibling
      // subdomain, and sends the victim GitHub's redirect carrying the attacker's own code.
      const { state } = await startLogin();
      const tokens = newTokens();
      nockCodeExchange("attacker-code", tokens);
      nockGetUser(tokens.token, ALICE);
      const hop = await request(url(`/auth/callback?code=attacker-code&state=${encodeURIComponent(state)}`), { cookie: `octoplex_login_state=${state}` });
      expect(hop.status).toBe(400);
      expect(hop.setCookies).toEqual([]);
      expect(await db()("sessions").count({ n: "*" }).then((r) => Number(r[0].n))).toBe(0);
    });

    test("GET /api/me with the session in an unprefixed octoplex_session cookie answers 401", async () => {
      const alice = await signedInMember(server().deps, ALICE, null);
      const sessionId = alice.cookie.split("=")[1];
      expect((await request(url("/api/me"), { cookie: `octoplex_session=${sessionId}` })).status).toBe(401);
      expect((await request(url("/api/me"), { cookie: `__Host-octoplex_session=${sessionId}` })).status).toBe(200);
    });
  },
  { env: { BASE_URL: HTTPS_BASE_URL } },
);

describe("cookies through the Lambda handler when BASE_URL is https", () => {
  let database: TestDatabase;
  let lambda: TestLambda;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    lambda = await startTestLambda(database, { BASE_URL: HTTPS_BASE_URL });
  });
  afterAll(async () => {
    await lambda?.close();
    await database?.drop();
  });

  const startLogin = async (shape = apiGatewayV2Event) => {
    const result = await lambda.invoke(shape({ method: "GET", path: "/auth/login" }));
    const location = Object.entries(result.headers ?? {}).find(([k]) => k.toLowerCase() === "location")?.[1] ?? "";
    return { result, state: new URL(location).searchParams.get("state")! };
  };

  test.each(EVENT_SHAPES)("%s: GET /auth/login sets __Host-octoplex_login_state; Path=/; Secure", async (_shape, shape) => {
    const { result } = await startLogin(shape);
    expect(setCookiesOf(result)).toEqual([expect.stringMatching(/^__Host-octoplex_login_state=[^;]+; Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax$/)]);
  });

  test("GET /auth/callback with a planted unprefixed octoplex_login_state cookie answers 400 and signs nobody in", async () => {
    const { state } = await startLogin();
    const tokens = newTokens();
    nockCodeExchange("attacker-code", tokens);
    nockGetUser(tokens.token, ALICE);
    const query = `code=attacker-code&state=${encodeURIComponent(state)}`;
    const result = await lambda.invoke(apiGatewayV2Event({ method: "GET", path: "/auth/callback", query, cookies: [`octoplex_login_state=${state}`] }));
    expect(result.statusCode).toBe(400);
    expect(setCookiesOf(result)).toEqual([]);
  });
});
