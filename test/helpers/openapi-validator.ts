import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020, { ErrorObject, ValidateFunction } from "ajv/dist/2020";
import { load } from "js-yaml";
import { browserHeaders } from "./browser";
import { addTimeAndUriFormats, admittingNull } from "./openapi-schemas";

/**
 * Checks real HTTP answers against openapi.yaml: the status must be one the operation declares,
 * the Content-Type one of that response's media types, and a JSON body must match its schema
 * (with every `$ref` resolved, by ajv in JSON Schema 2020-12, the dialect of OpenAPI 3.1).
 *
 *   const openapi = createOpenApiValidator();
 *   const res = await fetchChecked(openapi, `${url}/api/teams`, { method: "POST", … });  // throws on a mismatch
 *   openapi.check({ method, path, status, contentType, text }).problems                   // [] when it conforms
 *   openapi.covered                                                                        // "POST /api/teams 201", …
 *
 * OpenAPI 3.0's `nullable: true` is accepted too (rewritten as a type that also allows null).
 */

export const OPENAPI_FILE = join(__dirname, "..", "..", "openapi.yaml");

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components?: Json;
  [key: string]: unknown;
}

/** One answer as it went over the wire. */
export interface ObservedResponse {
  method: string;
  /** The request's path; a query string is ignored. */
  path: string;
  status: number;
  /** The Content-Type header, or null when there was none. */
  contentType: string | null;
  /** The body as text ("" when there was none). */
  text: string;
}

export interface ResponseCheck {
  /** `METHOD /documented/{path}`, or undefined when no documented path matches. */
  operation?: string;
  /** The key of `responses` that described the status: "201", "4XX" or "default". */
  statusKey?: string;
  /** What does not conform, one line each; empty when the answer matches the contract. */
  problems: string[];
}

export interface OpenApiValidator {
  document: OpenApiDocument;
  /** The documented path template that serves METHOD path (literal segments win over {params}). */
  findOperation(method: string, path: string): { template: string; operation: Json } | undefined;
  check(response: ObservedResponse): ResponseCheck;
  /** check(), then throw an error listing the problems, if any. */
  assertConforms(response: ObservedResponse): ResponseCheck;
  /** `METHOD /template status` of every answer check() found conforming. */
  readonly covered: ReadonlySet<string>;
}

export function loadOpenApiDocument(file = OPENAPI_FILE): OpenApiDocument {
  return load(readFileSync(file, "utf8")) as OpenApiDocument;
}

/** OpenAPI 3.0 `nullable: true` → a 2020-12 type (or enum) that also admits null. */
function withoutNullable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullable);
  if (!value || typeof value !== "object") return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) if (key !== "nullable") out[key] = withoutNullable(v);
  return (value as Json).nullable === true ? admittingNull(out) : out;
}


function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    // Unknown keywords and formats in openapi.yaml are mistakes, not something to skip silently.
    strict: true,
    strictTypes: true,
    strictRequired: false,
    allowUnionTypes: true,
  });
  // OpenAPI's own schema keywords, annotations only.
  ajv.addVocabulary(["example", "xml", "externalDocs", "discriminator"]);
  addTimeAndUriFormats(ajv);
  return ajv;
}

/** A JSON pointer fragment, each segment escaped (~0 ~1) and URI-encoded ({teamId}). */
const pointer = (segments: string[]) => `#/${segments.map((s) => encodeURIComponent(s.replace(/~/g, "~0").replace(/\//g, "~1"))).join("/")}`;

const mediaType = (contentType: string | null) => (contentType ?? "").split(";")[0].trim().toLowerCase();
const isJson = (type: string) => type === "application/json" || /^application\/[\w.+-]+\+json$/.test(type);

function formatError(e: ErrorObject): string {
  const where = e.instancePath || "(body)";
  const extra =
    e.keyword === "additionalProperties"
      ? `: ${String((e.params as { additionalProperty: string }).additionalProperty)}`
      : e.keyword === "enum"
        ? `: ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`
        : e.keyword === "const"
          ? `: ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`
          : "";
  return `${where} ${e.message}${extra}`;
}

/** Where each components/schemas entry is registered with ajv (a name, never fetched). */
const SCHEMAS_BASE = "https://octoplex.invalid/openapi.yaml/components/schemas/";

/**
 * A schema with its local `$ref`s ("#/components/schemas/X/…") pointed at the registered copies
 * ("…/components/schemas/X#/…"), so each schema compiles on its own, not the whole document.
 */
function absoluteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(absoluteRefs);
  if (!value || typeof value !== "object") return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === "$ref" && typeof v === "string") {
      const match = /^#\/components\/schemas\/([^/]+)(\/.*)?$/.exec(v);
      if (!match) throw new Error(`openapi.yaml: a schema $ref must point into #/components/schemas, not ${v}`);
      out.$ref = `${SCHEMAS_BASE}${match[1]}${match[2] ? `#${match[2]}` : ""}`;
    } else {
      out[key] = absoluteRefs(v);
    }
  }
  return out;
}

export function createOpenApiValidator(document: OpenApiDocument = loadOpenApiDocument()): OpenApiValidator {
  const spec = withoutNullable(document) as OpenApiDocument;
  const ajv = createAjv();
  const schemas = ((spec.components ?? {}).schemas ?? {}) as Json;
  for (const [name, schema] of Object.entries(schemas)) ajv.addSchema(absoluteRefs(schema) as object, `${SCHEMAS_BASE}${name}`);
  const compiled = new Map<string, ValidateFunction>();
  const covered = new Set<string>();

  const templates = Object.keys(spec.paths).map((template) => {
    const segments = template.split("/");
    const regex = new RegExp(`^${segments.map((s) => (/^\{[^}]+\}$/.test(s) ? "[^/]+" : s.replace(/[.*+?^$()|[\]\\]/g, "\\$&"))).join("/")}$`);
    return { template, regex, literals: segments.filter((s) => s && !s.startsWith("{")).length };
  });

  /** A local `$ref` (OpenAPI's, e.g. a components/responses entry) followed; its location as pointer segments. */
  function deref(value: unknown, at: string[]): { value: Json; at: string[] } {
    let current = value as Json;
    let location = at;
    for (let hops = 0; current && typeof current.$ref === "string"; hops++) {
      const ref = current.$ref;
      if (!ref.startsWith("#/") || hops > 10) throw new Error(`openapi.yaml: cannot follow $ref ${ref} at ${pointer(location)}`);
      location = ref.slice(2).split("/").map((s) => decodeURIComponent(s).replace(/~1/g, "/").replace(/~0/g, "~"));
      current = location.reduce<unknown>((node, key) => (node as Json | undefined)?.[key], spec) as Json;
      if (current === undefined) throw new Error(`openapi.yaml: $ref ${ref} points at nothing`);
    }
    return { value: current, at: location };
  }

  /** The compiled schema of a media type, by its place in the document (each compiled once). */
  function validatorAt(at: string[], schema: unknown): ValidateFunction {
    const key = pointer(at);
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(absoluteRefs(schema) as object);
      compiled.set(key, validate);
    }
    return validate;
  }

  function findOperation(method: string, path: string) {
    const verb = method.toLowerCase();
    const bare = path.split("?")[0];
    const candidates = templates
      .filter((t) => t.regex.test(bare) && spec.paths[t.template][verb] !== undefined)
      .sort((a, b) => b.literals - a.literals);
    const found = candidates[0];
    return found ? { template: found.template, operation: spec.paths[found.template][verb] as Json } : undefined;
  }

  function check(response: ObservedResponse): ResponseCheck {
    const method = response.method.toUpperCase();
    const found = findOperation(method, response.path);
    if (!found) return { problems: [`openapi.yaml describes no ${method} operation for ${response.path}`] };
    const operation = `${method} ${found.template}`;
    const responses = (found.operation.responses ?? {}) as Json;
    const status = String(response.status);
    const statusKey = [status, `${status[0]}XX`, `${status[0]}xx`, "default"].find((k) => k in responses);
    if (!statusKey) {
      return { operation, problems: [`${operation} answered ${status}, which openapi.yaml does not describe (it has ${Object.keys(responses).join(", ")})`] };
    }
    const base = ["paths", found.template, method.toLowerCase(), "responses", statusKey];
    const described = deref(responses[statusKey], base);
    const content = described.value.content as Record<string, Json> | undefined;
    const type = mediaType(response.contentType);
    const problems: string[] = [];
    const where = `${operation} ${status}`;

    if (!content || Object.keys(content).length === 0) {
      if ((response.status === 204 || response.status === 304) && response.text !== "") problems.push(`${where} must have no body, got ${JSON.stringify(response.text.slice(0, 80))}`);
      if (isJson(type)) problems.push(`${where} answered ${type}, but openapi.yaml declares no content for it`);
    } else {
      const key =
        Object.keys(content).find((k) => k.toLowerCase() === type) ??
        Object.keys(content).find((k) => k.endsWith("/*") && type.startsWith(k.slice(0, -1).toLowerCase())) ??
        Object.keys(content).find((k) => k === "*/*");
      if (!key) {
        problems.push(`${where} answered Content-Type ${response.contentType ?? "(none)"}; openapi.yaml declares ${Object.keys(content).join(", ")}`);
      } else if (content[key].schema !== undefined) {
        let body: unknown = response.text;
        let readable = true;
        if (isJson(type)) {
          try {
            body = JSON.parse(response.text);
          } catch {
            readable = false;
            problems.push(`${where} says ${type} but its body is not JSON: ${JSON.stringify(response.text.slice(0, 80))}`);
          }
        }
        if (readable) {
          const validate = validatorAt([...described.at, "content", key, "schema"], content[key].schema);
          if (!validate(body)) problems.push(...(validate.errors ?? []).map((e) => `${where}: ${formatError(e)}`));
        }
      }
    }
    if (problems.length === 0) covered.add(`${operation} ${status}`);
    return { operation, statusKey, problems };
  }

  return {
    document: spec,
    findOperation,
    check,
    assertConforms(response) {
      const result = check(response);
      if (result.problems.length > 0) {
        throw new Error(`The answer to ${response.method.toUpperCase()} ${response.path} does not match openapi.yaml:\n  ${result.problems.join("\n  ")}`);
      }
      return result;
    },
    covered,
  };
}

export interface CheckedResponse {
  status: number;
  headers: Headers;
  contentType: string | null;
  text: string;
  /** Parsed JSON, or the text when the answer is not JSON. */
  body: unknown;
  check: ResponseCheck;
}

/**
 * fetch (no redirect followed, `cookie` sent when given), then assert the answer matches
 * openapi.yaml. Returns it for the test's own expectations.
 */
export async function fetchChecked(validator: OpenApiValidator, url: string, init: RequestInit & { cookie?: string } = {}): Promise<CheckedResponse> {
  const res = await fetch(url, { ...init, headers: browserHeaders(init), redirect: "manual" });
  const text = await res.text();
  const contentType = res.headers.get("content-type");
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  const observed: ObservedResponse = { method: init.method ?? "GET", path: new URL(url).pathname, status: res.status, contentType, text };
  const check = validator.assertConforms(observed);
  return { status: res.status, headers: res.headers, contentType, text, body, check };
}
