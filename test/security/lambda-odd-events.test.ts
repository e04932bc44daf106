import fc from "fast-check";
import { migrateLatest } from "../../src/db/migrate";
import { createDeps, Deps } from "../../src/deps";
import { createLambdaApp, LambdaApp } from "../../src/lambda/lambda-app";
import { apiGatewayV2Event, jsonBody, lambdaContext, LambdaHttpResult, restApiV1Event } from "../fixtures/lambda-events";
import { testConfig } from "../helpers/config";
import { createTestDatabase, databaseKinds, TestDatabase } from "../helpers/databases";
import { TestOctokit } from "../helpers/test-octokit";

type Outcome = { answered: LambdaHttpResult } | { refused: unknown };

const healthz = { method: "GET", path: "/healthz" };
const without = (event: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(event).filter(([k]) => !keys.includes(k)));

/** Mostly the right kind of value, now and then any JSON value: most events get through whole, some do not. */
const mostly = <T>(right: fc.Arbitrary<T>) => fc.oneof({ arbitrary: right, weight: 6 }, { arbitrary: fc.jsonValue(), weight: 1 });

/** Shaped like an HTTP event, each field absent, right or any JSON value. */
const nearHttpEvent = fc.oneof(
  fc.record(
    {
      version: mostly(fc.constant("2.0")),
      rawPath: mostly(fc.constantFrom("/healthz", "/api/github/webhooks", "/nope", "", "healthz")),
      rawQueryString: mostly(fc.string()),
      headers: mostly(fc.dictionary(fc.string(), fc.string())),
      cookies: mostly(fc.array(fc.string())),
      body: mostly(fc.string()),
      isBase64Encoded: mostly(fc.boolean()),
      requestContext: mostly(
        fc.record(
          { http: mostly(fc.record({ method: mostly(fc.constantFrom("GET", "POST")), sourceIp: mostly(fc.ipV4()) }, { requiredKeys: ["method"] })), requestId: mostly(fc.uuid()) },
          { requiredKeys: ["http"] },
        ),
      ),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      httpMethod: mostly(fc.constantFrom("GET", "POST")),
      path: mostly(fc.constantFrom("/healthz", "/api/github/webhooks", "/nope", "")),
      headers: mostly(fc.option(fc.dictionary(fc.string(), fc.string()))),
      multiValueHeaders: mostly(fc.option(fc.dictionary(fc.string(), fc.array(fc.string())))),
      queryStringParameters: mostly(fc.option(fc.dictionary(fc.string(), fc.string()))),
      multiValueQueryStringParameters: mostly(fc.option(fc.dictionary(fc.string(), fc.array(fc.string())))),
      body: mostly(fc.option(fc.string())),
      isBase64Encoded: mostly(fc.boolean()),
      requestContext: mostly(fc.record({ identity: mostly(fc.record({ sourceIp: mostly(fc.ipV4()) }, { requiredKeys: [] })) }, { requiredKeys: [] })),
    },
    { requiredKeys: ["httpMethod"] },
  ),
);

/**
 * Lambda hands the function whatever it was invoked with: a misconfigured integration, a test
 * event from the console, a direct invocation. Each gets the handler's own answer, never a
 * TypeError from deep inside.
 */
describe.each(databaseKinds())("the Lambda handler (createLambdaApp, as src/lambda/handler.ts calls it) given an odd event, on %s", (kind) => {
  let database: TestDatabase;
  let deps: Deps;
  let app: LambdaApp;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    deps = createDeps(testConfig(database.config, { APP_SLUG: "octoplex-test" }), { Octokit: TestOctokit });
    await migrateLatest(deps.db);
    app = createLambdaApp(deps);
  });
  afterAll(async () => {
    await deps?.close();
    await database?.drop();
  });

  const invoke = (event: unknown): Promise<Outcome> =>
    app.handle(event, lambdaContext()).then(
      (answered) => ({ answered: answered as LambdaHttpResult }),
      (refused: unknown) => ({ refused }),
    );

  /** The handler's own refusal of what is neither HTTP nor a job: an Error naming it, not a TypeError. */
  function expectUnknownEvent(outcome: Outcome): void {
    expect("refused" in outcome && outcome.refused).toBeInstanceOf(Error);
    const error = (outcome as { refused: Error }).refused;
    expect({ type: error.constructor.name, message: error.message }).toEqual({ type: "Error", message: expect.stringMatching(/^unknown event: expected an HTTP event or a scheduled job, got /) });
  }

  function expectInvalidInput(outcome: Outcome): void {
    expect("answered" in outcome).toBe(true);
    const result = (outcome as { answered: LambdaHttpResult }).answered;
    expect(result.statusCode).toBe(400);
    expect(jsonBody(result)).toEqual({ error: { code: "invalid_input", message: expect.any(String), details: expect.any(Array) } });
  }

  test.each<[string, unknown]>([
    ["null", null],
    ["undefined", undefined],
    ["{}", {}],
    ["a string", "GET /healthz"],
    ["a number", 5],
    ["an array", [{ httpMethod: "GET" }]],
    ["an octoplex field that is null", { octoplex: null }],
  ])("%s is refused as an unknown event", async (_name, event) => {
    expectUnknownEvent(await invoke(event));
  });

  test.each<[string, unknown]>([
    ["{httpMethod: 5}", { httpMethod: 5 }],
    ["a 2.0 event with an empty requestContext.http", { version: "2.0", requestContext: { http: {} } }],
    ["a 2.0 event with requestContext null", { version: "2.0", rawPath: "/healthz", requestContext: null }],
    ["a 2.0 event without headers and rawPath", without(apiGatewayV2Event(healthz), "headers", "rawPath")],
    ["a 2.0 event whose headers are a string", { ...apiGatewayV2Event(healthz), headers: "accept: */*" }],
    ["a 2.0 event whose cookies are not strings", { ...apiGatewayV2Event(healthz), cookies: [1, null] }],
    ["a 1.0 event whose path is missing", without(restApiV1Event(healthz), "path")],
    ["a 1.0 event whose multiValueHeaders hold a string", { ...restApiV1Event(healthz), multiValueHeaders: { accept: "*/*" } }],
    ["a 1.0 event whose requestContext is a number", { ...restApiV1Event(healthz), requestContext: 7 }],
  ])("%s answers 400 invalid_input", async (_name, event) => {
    expectInvalidInput(await invoke(event));
  });

  test.each<[string, Record<string, unknown>]>([
    ["a 1.0 event with null headers (as API Gateway sends a request without any)", { ...restApiV1Event(healthz), headers: null, multiValueHeaders: null }],
    ["a 2.0 event without headers", without(apiGatewayV2Event(healthz), "headers")],
  ])("%s is served as the request it is", async (_name, event) => {
    const outcome = await invoke(event);
    expect("answered" in outcome && outcome.answered.statusCode).toBe(200);
  });

  test("any JSON value, or anything shaped nearly like an HTTP event, gets an answer below 500 or the unknown-event refusal, never a TypeError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), nearHttpEvent), async (event) => {
        const outcome = await invoke(structuredClone(event));
        if ("refused" in outcome) return expectUnknownEvent(outcome);
        expect(outcome.answered).toEqual(expect.objectContaining({ statusCode: expect.any(Number) }));
        expect(outcome.answered.statusCode).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });
});
