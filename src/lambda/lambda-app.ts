import { createLambdaFunction } from "@probot/adapter-aws-lambda-serverless";
import serverless from "serverless-http";
import { migrateLatest } from "../db/migrate";
import type { Deps } from "../deps";
import { createHttpApp } from "../http/create-http-app";
import { securityHeaders } from "../http/security-headers";
import { WEBHOOK_PATH } from "../http/webhook-route";
import { registerWebhooks } from "../webhooks";
import { verifySignature } from "../webhooks/signature";
import { bodyOf, classifyEvent, headersOf, HttpEvent, methodAndPath } from "./events";

export interface LambdaResult {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
  [key: string]: unknown;
}

const json = (statusCode: number, body: unknown): LambdaResult => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

// As sendError on the server: invalid_input always carries details (API.md).
const invalidInput = (message: string): LambdaResult => json(400, { error: { code: "invalid_input", message, details: [{ path: "", message }] } });

// Not an HTTP request, so no HTTP answer: the invocation fails, naming what arrived (never its values).
const unknownEvent = (got: string) => new Error(`unknown event: expected an HTTP event or a scheduled job, got ${got}`);

/**
 * One Lambda serves everything: GitHub's webhooks through Probot's Lambda adapter, every other
 * path through the same express app `npm start` serves, and scheduled jobs.
 */
export function createLambdaApp(deps: Deps) {
  const probot = deps.probot;
  if (!probot) throw new Error("Lambda needs APP_ID and the private key");
  const secret = deps.config.webhookSecret ?? "";
  if (!secret) throw new Error("Lambda needs WEBHOOK_SECRET to verify GitHub's deliveries");
  registerWebhooks(probot, deps.services, deps.config.appId);
  const receiveWebhook = createLambdaFunction(() => undefined, { probot });
  const http = serverless(createHttpApp(deps), { binary: ["image/*", "application/octet-stream"] });
  // The express app sets them on everything else; webhooks are answered here, without it.
  const secured = (result: LambdaResult): LambdaResult => ({
    ...result,
    headers: { ...securityHeaders(deps.config.baseUrl?.startsWith("https://") ?? false), ...result.headers },
  });

  async function webhook(event: HttpEvent, context: unknown): Promise<LambdaResult> {
    const headers = headersOf(event);
    const id = headers["x-github-delivery"];
    if (!headers["x-hub-signature-256"]) return json(401, { error: { code: "unauthenticated", message: "X-Hub-Signature-256 is missing" } });
    // Verify here: the adapter throws on a bad signature instead of answering 4xx, and its
    // verify() would take a `sha1=` signature. The signature comes first, as on the server: a
    // forged request learns nothing about the other headers.
    const body = bodyOf(event);
    if (!verifySignature(secret, body, headers["x-hub-signature-256"])) {
      return json(401, { error: { code: "unauthenticated", message: "X-Hub-Signature-256 does not match the payload and secret" } });
    }
    if (!id || !headers["x-github-event"]) {
      return invalidInput("X-GitHub-Event and X-GitHub-Delivery are required");
    }
    try {
      JSON.parse(body);
    } catch {
      // The adapter's parse error arrives wrapped in an AggregateError, indistinguishable from a handler's.
      return invalidInput("The payload is not JSON");
    }
    try {
      // The adapter reads headers and a plain body; hand it both normalised.
      await receiveWebhook({ headers, body, httpMethod: "POST", path: WEBHOOK_PATH } as never, context as never);
      return json(200, { ok: true });
    } catch (error) {
      deps.log.error({ err: error, deliveryId: id, event: headers["x-github-event"] }, "webhook handler failed");
      return json(500, { error: { code: "internal", message: `Handling delivery ${id} failed; it was not recorded and can be redelivered` } });
    }
  }

  async function job(name: string): Promise<unknown> {
    if (name === "migrate") return migrateLatest(deps.db);
    if (name === "reconcile") {
      // The hourly job: make the database agree with GitHub, ask again for failed deliveries,
      // and deliver whatever events are due.
      const reconcile = await deps.services.reconcile();
      const redeliver = await deps.services.redeliver();
      const events = await deps.services.dispatcher?.dispatchDue();
      deps.log.info({ reconcile, redeliver, events }, "scheduled jobs done");
      return { reconcile, redeliver, events };
    }
    if (name === "housekeeping") {
      const purged = await deps.services.housekeeping.purgeExpired();
      deps.log.info({ purged }, "expired rows purged");
      return purged;
    }
    if (name === "dispatch") return deps.services.dispatcher?.dispatchDue() ?? { delivered: 0, retrying: 0, failed: 0 };
    throw unknownEvent(`the job ${JSON.stringify(name)}`);
  }

  async function drain(): Promise<void> {
    try {
      await deps.services.dispatcher?.dispatchDue(20);
    } catch (error) {
      deps.log.error({ err: error }, "event dispatch after the request failed; the schedule retries");
    }
  }

  return {
    async handle(event: unknown, context: unknown): Promise<unknown> {
      const classified = classifyEvent(event);
      if (classified.kind === "malformed_http") return invalidInput(classified.problem);
      if (classified.kind === "job") return job(classified.job);
      if (classified.kind === "unknown") throw unknownEvent(classified.got);
      const request = classified.event;
      const { method, path } = methodAndPath(request);
      const result =
        method === "POST" && path === WEBHOOK_PATH
          ? secured(await webhook(request, context))
          : withSetCookiesListed(request, (await http(request as never, context as never)) as LambdaResult);
      // Lambda freezes the container after the answer: deliver what this request recorded now.
      await drain();
      return result;
    },
  };
}

export type LambdaApp = ReturnType<typeof createLambdaApp>;

/**
 * serverless-http lists Set-Cookie in `cookies` (2.0) or `multiValueHeaders` (1.0) only when there
 * are several; a single one stays in `headers`, which Function URLs and 2.0 do not promise to pass
 * on. Every Set-Cookie goes where each format documents it.
 */
function withSetCookiesListed(event: HttpEvent, result: LambdaResult): LambdaResult {
  const headers = { ...(result.headers ?? {}) };
  const single = Object.keys(headers).filter((name) => name.toLowerCase() === "set-cookie");
  if (single.length === 0) return result;
  const values = single.map((name) => headers[name]);
  for (const name of single) delete headers[name];
  if ("httpMethod" in event) {
    const multi = { ...((result.multiValueHeaders as Record<string, string[]> | undefined) ?? {}) };
    multi["set-cookie"] = [...(multi["set-cookie"] ?? []), ...values];
    return { ...result, headers, multiValueHeaders: multi };
  }
  return { ...result, headers, cookies: [...((result.cookies as string[] | undefined) ?? []), ...values] };
}
