import type { ProbotOctokit } from "probot";

// The wordings @octokit/auth-app 6.1.4 (Probot 13's) recognizes as clock skew.
const IAT_KNOWN = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
const EXP_KNOWN = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const IAT = /'Issued at' claim \('iat'\)/;
const EXP = /'Expiration time' claim \('exp'\)/;
const WRAPPED = Symbol("clockSkewWording");

type Fetch = typeof fetch;

/**
 * When GitHub refuses the app's JWT because this machine's clock is off, @octokit/auth-app signs
 * it again on GitHub's clock (the answer's Date header) and retries — but only for the wordings it
 * knows. GitHub now also answers "'Issued at' claim ('iat') must be an Integer representing a time
 * in the past" (and "'Expiration time' claim ('exp') is too far in the future"), which auth-app
 * 6.1.4 passes on as a 401: every installation token mint then fails until the clock is fixed.
 * This fetch rewords such a refusal (keeping GitHub's words after it) so auth-app's own retry runs.
 */
export function clockSkewAwareFetch(inner?: Fetch): Fetch {
  if (inner && (inner as unknown as Record<symbol, boolean>)[WRAPPED]) return inner;
  const wrapped = async (input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]): Promise<Response> => {
    // Resolved per call: tests replace the global fetch (nock) after this module loads.
    const response = await (inner ?? globalThis.fetch)(input, init);
    if (response.status !== 401) return response;
    let body: { message?: unknown } | undefined;
    try {
      body = (await response.clone().json()) as { message?: unknown };
    } catch {
      return response;
    }
    const message = typeof body?.message === "string" ? body.message : "";
    const known = IAT.test(message) ? IAT_KNOWN : EXP.test(message) ? EXP_KNOWN : undefined;
    if (!known || message.includes(known)) return response;
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    headers.delete("content-encoding");
    return new Response(JSON.stringify({ ...body, message: `${known} (GitHub: ${message})` }), {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  };
  return Object.assign(wrapped, { [WRAPPED]: true }) as unknown as Fetch;
}

/** The Octokit class with clockSkewAwareFetch under every request (function-form defaults run last). */
export function withClockSkewRetry(Octokit: typeof ProbotOctokit): typeof ProbotOctokit {
  return Octokit.defaults((options: { request?: { fetch?: Fetch } }) => ({
    ...options,
    request: { ...options.request, fetch: clockSkewAwareFetch(options.request?.fetch) },
  })) as typeof ProbotOctokit;
}
