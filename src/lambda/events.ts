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

/** EventBridge's scheduled event, or a direct invocation asking for a job. */
export interface JobEvent {
  source?: string;
  "detail-type"?: string;
  octoplex?: { job: string };
}

export function isHttpEvent(event: unknown): event is HttpEvent {
  const e = event as Partial<HttpEventV2 & HttpEventV1>;
  return Boolean(e && (typeof e.httpMethod === "string" || (e.version === "2.0" && e.requestContext?.http)));
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
