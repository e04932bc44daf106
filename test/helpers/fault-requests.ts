/**
 * Requests for the fault tests (test/faults/*), recorded whatever happens: an HTTP answer with its
 * status, body and time, or the reason there was none (connection dropped, process gone, timeout).
 */

export interface Answer {
  /** 0 when there was no HTTP answer. */
  status: number;
  /** Parsed JSON, else the text. */
  body: unknown;
  ms: number;
  /** Why there was no HTTP answer at all: the connection dropped, the process died, or the abort after `timeoutMs`. */
  failure?: string;
}

export const isSuccess = (answer: Answer) => answer.status >= 200 && answer.status < 300;

/** Runs `request` with an abort after `timeoutMs` and records what came back, never throwing. */
export async function answer(request: (signal: AbortSignal) => Promise<Response>, timeoutMs = 15_000): Promise<Answer> {
  const started = Date.now();
  try {
    const res = await request(AbortSignal.timeout(timeoutMs));
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text, for the assertions on the shape to show
    }
    return { status: res.status, body, ms: Date.now() - started };
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause;
    return { status: 0, body: undefined, ms: Date.now() - started, failure: `${(error as Error).message}${cause ? ` (${cause.message ?? String(cause)})` : ""}` };
  }
}

/** A platform server's API call: `Authorization: Bearer <apiKey>`, acting for `user` (X-Octoplex-User) when given. */
export function apiRequest(
  baseUrl: string,
  apiKey: string,
  method: string,
  path: string,
  options: { body?: unknown; user?: number; signal?: AbortSignal } = {},
): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  if (options.user !== undefined) headers["x-octoplex-user"] = String(options.user);
  if (options.body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
