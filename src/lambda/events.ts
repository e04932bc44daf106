/** The HTTP shapes Lambda receives: API Gateway HTTP API (v2), Function URLs (v2), REST API (v1). */
export interface HttpEventV2 {
  version: "2.0";
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { http: { method: string; path?: string } } & Record<string, unknown>;
}

export interface HttpEventV1 {
  httpMethod: string;
  path: string;
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext?: Record<string, unknown>;
}

export type HttpEvent = HttpEventV2 | HttpEventV1;

type Fields = Record<string, unknown>;

const isObject = (v: unknown): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === "string";
const isPath = (v: unknown) => isString(v) && v.startsWith("/");
const isMethod = (v: unknown) => isString(v) && /^[A-Za-z]+$/.test(v);
const optional = (check: (v: unknown) => boolean) => (v: unknown) => v === undefined || check(v);
const nullable = (check: (v: unknown) => boolean) => (v: unknown) => v === undefined || v === null || check(v);
const recordOf = (check: (v: unknown) => boolean) => (v: unknown) => isObject(v) && Object.values(v).every((x) => x === undefined || check(x));
const listOf = (check: (v: unknown) => boolean) => (v: unknown) => Array.isArray(v) && v.every(check);

/**
 * Every field of an HTTP event that this module or serverless-http reads, with the type it must
 * have: anything else arrives from a misconfigured integration or a direct invocation, and is
 * answered 400 rather than failing somewhere inside with a TypeError.
 */
const V2_FIELDS: Array<[string, (e: Fields) => unknown, (v: unknown) => boolean]> = [
  ["rawPath (a path starting with /)", (e) => e.rawPath, isPath],
  ["requestContext.http.method", (e) => field(field(e.requestContext, "http"), "method"), isMethod],
  ["requestContext.http.sourceIp", (e) => field(field(e.requestContext, "http"), "sourceIp"), optional(isString)],
  ["requestContext.requestId", (e) => field(e.requestContext, "requestId"), optional(isString)],
  ["rawQueryString", (e) => e.rawQueryString, optional(isString)],
  ["headers", (e) => e.headers, nullable(recordOf(isString))],
  ["cookies", (e) => e.cookies, optional(listOf(isString))],
  ["body", (e) => e.body, nullable(isString)],
  ["isBase64Encoded", (e) => e.isBase64Encoded, optional((v) => typeof v === "boolean")],
];

const V1_FIELDS: typeof V2_FIELDS = [
  ["httpMethod", (e) => e.httpMethod, isMethod],
  ["path (a path starting with /)", (e) => e.path, isPath],
  ["requestContext", (e) => e.requestContext, optional(isObject)],
  ["requestContext.identity", (e) => field(e.requestContext, "identity"), nullable(isObject)],
  ["requestContext.identity.sourceIp", (e) => field(field(e.requestContext, "identity"), "sourceIp"), nullable(isString)],
  ["requestContext.requestId", (e) => field(e.requestContext, "requestId"), optional(isString)],
  ["headers", (e) => e.headers, nullable(recordOf(isString))],
  ["multiValueHeaders", (e) => e.multiValueHeaders, nullable(recordOf(listOf(isString)))],
  ["queryStringParameters", (e) => e.queryStringParameters, nullable(recordOf(isString))],
  ["multiValueQueryStringParameters", (e) => e.multiValueQueryStringParameters, nullable(recordOf(listOf(isString)))],
  ["body", (e) => e.body, nullable(isString)],
  ["isBase64Encoded", (e) => e.isBase64Encoded, optional((v) => typeof v === "boolean")],
];

function field(parent: unknown, name: string): unknown {
  return isObject(parent) ? parent[name] : parent === undefined ? undefined : null;
}

export type ClassifiedEvent =
  | { kind: "http"; event: HttpEvent }
  /** Shaped like an HTTP event (version 2.0, or an httpMethod) but with a field missing or of the wrong type. */
  | { kind: "malformed_http"; problem: string }
  /** EventBridge's scheduled event (reconcile), or a direct invocation `{ "octoplex": { "job": … } }`. */
  | { kind: "job"; job: string }
  /** Neither: `got` says what arrived (its keys, or its type), never its values. */
  | { kind: "unknown"; got: string };

/** What Lambda handed over, decided by type guards alone: no input makes this throw. */
export function classifyEvent(event: unknown): ClassifiedEvent {
  if (!isObject(event)) return { kind: "unknown", got: event === null ? "null" : Array.isArray(event) ? "an array" : typeof event };
  const http = event.version === "2.0" ? V2_FIELDS : "httpMethod" in event ? V1_FIELDS : undefined;
  if (http) {
    const wrong = http.filter(([, read, check]) => !check(read(event))).map(([name]) => name);
    if (wrong.length === 0) return { kind: "http", event: event as unknown as HttpEvent };
    const format = http === V2_FIELDS ? "API Gateway 2.0" : "API Gateway 1.0";
    return { kind: "malformed_http", problem: `The ${format} event is malformed: ${wrong.join(", ")} missing or of the wrong type` };
  }
  const job = field(event.octoplex, "job");
  if (isString(job)) return { kind: "job", job };
  if (event["detail-type"] === "Scheduled Event") return { kind: "job", job: "reconcile" };
  return { kind: "unknown", got: JSON.stringify(Object.keys(event)) };
}

export function methodAndPath(event: HttpEvent): { method: string; path: string } {
  return "httpMethod" in event
    ? { method: event.httpMethod.toUpperCase(), path: event.path }
    : { method: event.requestContext.http.method.toUpperCase(), path: event.rawPath };
}

/** Headers in lower case, whichever shape carried them. */
export function headersOf(event: HttpEvent): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
  return headers;
}

/** The body as the client sent it (API Gateway base64-encodes binary and sometimes JSON). */
export function bodyOf(event: HttpEvent): string {
  const body = event.body ?? "";
  return event.isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body;
}
