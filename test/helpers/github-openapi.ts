import { readFileSync } from "node:fs";
import Ajv2020, { ErrorObject, ValidateFunction } from "ajv/dist/2020";
import { addTimeAndUriFormats, admittingNull } from "./openapi-schemas";

/**
 * Checks what the tests make GitHub say (the fake GitHub's answers, nock replies, webhook payloads)
 * against GitHub's own descriptions: `@octokit/openapi` (the REST API of api.github.com, OpenAPI 3.0)
 * and `@octokit/openapi-webhooks` (every webhook payload, OpenAPI 3.1). A fake that answers shapes
 * GitHub never would hides the bugs the real answers would show.
 *
 *   const github = githubOpenApi();   // loaded once per test file, on first use; each schema compiled when first needed
 *   github.checkResponse({ method: "GET", path: "/app/installations/7", status: 200, body }).problems   // [] when it conforms
 *   github.assertResponse({ method: "GET", path: "/repos/{owner}/{repo}", status: 200, body });          // throws on a mismatch
 *   github.assertWebhook("installation", payload);                                                      // by event and payload.action
 *
 * Each description is read on the first check that needs it (the REST one holds about 40 MB in memory).
 * `path` is a template of the description or a concrete path (a query and the fake's GHES prefix /api/v3 are ignored).
 */

type Json = Record<string, unknown>;

export interface GithubAnswer {
  method: string;
  path: string;
  status: number;
  /** The parsed JSON body; undefined when there was none. */
  body: unknown;
}

export interface GithubShapeCheck {
  /** `METHOD /template` of GitHub's description, or undefined when none matches. */
  operation?: string;
  problems: string[];
}

export interface GithubOpenApi {
  /** The path template of GitHub's description that serves METHOD path. */
  findOperation(method: string, path: string): string | undefined;
  checkResponse(answer: GithubAnswer): GithubShapeCheck;
  assertResponse(answer: GithubAnswer): GithubShapeCheck;
  /** The payload of a webhook `event` (X-GitHub-Event), its action taken from the payload. */
  checkWebhook(event: string, payload: unknown): GithubShapeCheck;
  assertWebhook(event: string, payload: unknown): GithubShapeCheck;
  /** `METHOD /template status` and `event.action` of everything found conforming. */
  readonly covered: ReadonlySet<string>;
}

const REST_FILE = require.resolve("@octokit/openapi/generated/api.github.com.json");
const WEBHOOKS_FILE = require.resolve("@octokit/openapi-webhooks/generated/api.github.com.json");
/** Names the documents are registered under with ajv (never fetched). */
const REST_ID = "https://github-openapi.invalid/rest.json";
const WEBHOOKS_ID = "https://github-openapi.invalid/webhooks.json";

/**
 * A document made ready for ajv: its local `$ref`s ("#/components/schemas/x") pointed at `id`, where
 * the document is registered, and (OpenAPI 3.0) `nullable: true` turned into a 2020-12 type or enum
 * that also admits null, as openapi-validator.ts does for Octoplex's own openapi.yaml.
 */
function prepared(value: unknown, id: string, nullable: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => prepared(v, id, nullable));
  if (!value || typeof value !== "object") return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === "$ref" && typeof v === "string" && v.startsWith("#/")) out.$ref = `${id}${v}`;
    else if (!(nullable && key === "nullable")) out[key] = prepared(v, id, nullable);
  }
  return nullable && (value as Json).nullable === true ? admittingNull(out) : out;
}

function createAjv(): Ajv2020 {
  // Not strict: GitHub's descriptions carry keywords of their own (x-github, discriminator, …).
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: false, logger: false });
  addTimeAndUriFormats(ajv);
  ajv.addFormat("date", { type: "string", validate: (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) });
  ajv.addFormat("email", { type: "string", validate: (s: string) => /^[^\s@]+@[^\s@]+$/.test(s) });
  for (const annotation of ["int64", "int32", "double", "repo.nwo", "binary", "uri-template", "timestamp"]) ajv.addFormat(annotation, true);
  return ajv;
}

/** A JSON pointer to `segments`, each escaped (~0 ~1) and URI-encoded. */
const pointer = (segments: string[]) => `#/${segments.map((s) => encodeURIComponent(s.replace(/~/g, "~0").replace(/\//g, "~1"))).join("/")}`;

function formatError(e: ErrorObject): string {
  const where = e.instancePath || "(body)";
  const params = e.params as Record<string, unknown>;
  const extra =
    e.keyword === "additionalProperties" ? `: ${String(params.additionalProperty)}` : e.keyword === "enum" ? `: ${JSON.stringify(params.allowedValues)}` : "";
  return `${where} ${e.message}${extra}`;
}

/** Ajv's errors, the ones under a failed anyOf/oneOf branch kept short: the branch that came nearest is what helps. */
function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  const lines = [...new Set((errors ?? []).map(formatError))];
  return lines.length > 25 ? [...lines.slice(0, 25), `… and ${lines.length - 25} more`] : lines;
}

/**
 * Where GitHub's description contradicts GitHub: GET /app/installations inlines `installation` with its
 * account as allOf [simple-user, enterprise] (no account is both) where `installation` itself says anyOf.
 */
function corrected(document: Json & { paths: Record<string, Json> }): void {
  const list = ((document.paths["/app/installations"]?.get as Json | undefined)?.responses as Json | undefined)?.["200"] as Json | undefined;
  const media = (list?.content as Record<string, Json> | undefined)?.["application/json"];
  const items = (media?.schema as Json | undefined)?.items as Json | undefined;
  const account = (items?.properties as Json | undefined)?.account as Json | undefined;
  if (!media || !JSON.stringify(account ?? {}).includes('"allOf"')) return;
  media.schema = { type: "array", items: { $ref: `${REST_ID}#/components/schemas/installation` } };
}

interface Template {
  template: string;
  exact: RegExp;
  /** The last parameter may hold slashes ({ref} "heads/feature/x", {path} "docs/a.md"). */
  greedy: RegExp;
  literals: number;
}

function compileTemplates(paths: string[]): Template[] {
  return paths.map((template) => {
    const segments = template.split("/");
    const escape = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
    const isParam = (s: string) => /^\{[^}]+\}$/.test(s);
    const exact = segments.map((s) => (isParam(s) ? "[^/]+" : escape(s))).join("/");
    const greedy = segments.map((s, i) => (isParam(s) ? (i === segments.length - 1 ? ".+" : "[^/]+") : escape(s))).join("/");
    return { template, exact: new RegExp(`^${exact}$`), greedy: new RegExp(`^${greedy}$`), literals: segments.filter((s) => s && !isParam(s)).length };
  });
}

export function createGithubOpenApi(files = { rest: REST_FILE, webhooks: WEBHOOKS_FILE }): GithubOpenApi {
  const covered = new Set<string>();
  const compiled = new Map<string, ValidateFunction>();
  const ajv = createAjv();
  let rest: { paths: Record<string, Json>; templates: Template[]; document: Json } | undefined;
  let webhooks: Record<string, Json> | undefined;

  /** The REST description, read and registered on first use: ajv compiles a schema only when a check asks for it. */
  function load() {
    if (rest) return rest;
    const document = prepared(JSON.parse(readFileSync(files.rest, "utf8")), REST_ID, true) as Json & { paths: Record<string, Json> };
    corrected(document);
    ajv.addSchema({ $id: REST_ID, components: document.components });
    rest = { paths: document.paths, templates: compileTemplates(Object.keys(document.paths)), document };
    return rest;
  }

  function loadWebhooks() {
    if (webhooks) return webhooks;
    const document = prepared(JSON.parse(readFileSync(files.webhooks, "utf8")), WEBHOOKS_ID, false) as Json & { webhooks: Record<string, Json> };
    ajv.addSchema({ $id: WEBHOOKS_ID, components: document.components });
    webhooks = document.webhooks;
    return webhooks;
  }

  /** The validator of the schema at `at` in a document, compiled once (with what it refers to, and nothing more). */
  function validatorAt(id: string, at: string[], schema: unknown): ValidateFunction {
    const key = `${id}${pointer(at)}`;
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(schema as Json);
      compiled.set(key, validate);
    }
    return validate;
  }

  function findOperation(method: string, path: string): string | undefined {
    const { paths, templates } = load();
    const verb = method.toLowerCase();
    const bare = path.split("?")[0].replace(/^\/api\/v3(?=\/)/, "");
    if (paths[bare]?.[verb] !== undefined) return bare;
    const serving = (t: Template) => paths[t.template][verb] !== undefined;
    const byLiterals = (a: Template, b: Template) => b.literals - a.literals;
    const exact = templates.filter((t) => serving(t) && t.exact.test(bare)).sort(byLiterals)[0];
    return (exact ?? templates.filter((t) => serving(t) && t.greedy.test(bare)).sort(byLiterals)[0])?.template;
  }

  /** A `#/components/responses/…` reference followed to the response it names. */
  function response(value: unknown): { value: Json; at: string[] } | undefined {
    const { document } = load();
    const ref = (value as Json | undefined)?.$ref;
    if (typeof ref !== "string") return undefined;
    const at = ref.slice(ref.indexOf("#/") + 2).split("/");
    return { value: at.reduce<unknown>((node, k) => (node as Json)[k], document) as Json, at };
  }

  function checkResponse(answer: GithubAnswer): GithubShapeCheck {
    const method = answer.method.toUpperCase();
    const template = findOperation(method, answer.path);
    if (!template) return { problems: [`GitHub's description has no ${method} operation for ${answer.path}`] };
    const operation = `${method} ${template}`;
    const where = `${operation} ${answer.status}`;
    const responses = ((load().paths[template][method.toLowerCase()] as Json).responses ?? {}) as Json;
    const key = String(answer.status);
    const problems: string[] = [];
    let described: { value: Json; at: string[] } | undefined;
    if (responses[key] !== undefined) {
      described = response(responses[key]) ?? { value: responses[key] as Json, at: ["paths", template, method.toLowerCase(), "responses", key] };
    } else if (answer.status >= 500) {
      // GitHub may answer any call with a server error it does not describe; its body is no contract.
      return { operation, problems };
    } else if (answer.status >= 400) {
      // An error GitHub does not describe for this operation still comes in its one error shape.
      described = response({ $ref: "#/components/responses/not_found" });
    } else {
      return { operation, problems: [`${where} is not an answer GitHub describes (it has ${Object.keys(responses).join(", ")})`] };
    }
    const content = described!.value.content as Record<string, Json> | undefined;
    const schema = content?.["application/json"]?.schema;
    if (schema === undefined) {
      if (answer.body !== undefined && answer.body !== "") problems.push(`${where} has no body on GitHub, got ${JSON.stringify(answer.body).slice(0, 80)}`);
    } else {
      const validate = validatorAt(REST_ID, [...described!.at, "content", "application/json", "schema"], schema);
      if (!validate(answer.body)) problems.push(...describeErrors(validate.errors).map((line) => `${where}: ${line}`));
    }
    if (problems.length === 0) covered.add(where);
    return { operation, problems };
  }

  function checkWebhook(event: string, payload: unknown): GithubShapeCheck {
    const action = (payload as Json | undefined)?.action;
    const name = `${event}${typeof action === "string" ? `-${action}` : ""}`.replace(/_/g, "-");
    const operation = `${event}${typeof action === "string" ? `.${action}` : ""}`;
    const described = loadWebhooks()[name] as { post?: { requestBody?: { content?: Record<string, { schema?: unknown }> } } } | undefined;
    const schema = described?.post?.requestBody?.content?.["application/json"]?.schema;
    if (schema === undefined) return { operation, problems: [`@octokit/openapi-webhooks describes no webhook ${name}`] };
    const validate = validatorAt(WEBHOOKS_ID, ["webhooks", name, "post", "requestBody", "content", "application/json", "schema"], schema);
    const problems = validate(payload) ? [] : describeErrors(validate.errors).map((line) => `${operation}: ${line}`);
    if (problems.length === 0) covered.add(operation);
    return { operation, problems };
  }

  const assert = (check: GithubShapeCheck, what: string) => {
    if (check.problems.length > 0) throw new Error(`${what} is not a shape GitHub sends:\n  ${check.problems.join("\n  ")}`);
    return check;
  };

  return {
    findOperation,
    checkResponse,
    assertResponse: (answer) => assert(checkResponse(answer), `The answer to ${answer.method.toUpperCase()} ${answer.path} (${answer.status})`),
    checkWebhook,
    assertWebhook: (event, payload) => assert(checkWebhook(event, payload), `The ${event} webhook payload`),
    covered,
  };
}

let shared: GithubOpenApi | undefined;

/** The descriptions, loaded once per test file (each jest test file has its own module registry). */
export function githubOpenApi(): GithubOpenApi {
  shared ??= createGithubOpenApi();
  return shared;
}
