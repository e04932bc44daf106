import type { IncomingMessage, ServerResponse } from "node:http";
import { Router } from "express";
import type { Logger } from "pino";
import type { Probot } from "probot";
import type { ErrorCode } from "../errors";
import { isDatabaseUnavailable } from "../services/health";
import type { ReceivedDelivery, WebhookDispatcher } from "../webhooks/dispatcher";
import { errorBody } from "./send-error";

export const WEBHOOK_PATH = "/api/github/webhooks";
// GitHub caps webhook payloads at 25 MB; anything bigger is not GitHub.
const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * GitHub's webhooks on plain node:http (as Probot's createNodeMiddleware serves them): verified by
 * Probot, with the app's secret, before anything is parsed or stored, then handed to the
 * dispatcher and answered once stored. Probot's own middleware answers 400 for a missing
 * signature; the contract wants 401 and our error shape.
 */
export function createWebhookHandler(probot: Probot, dispatcher: WebhookDispatcher, log: Logger): WebhookHandler {
  return async (req, res) => {
    const fail = (status: number, code: ErrorCode, message: string) => answer(res, status, errorBody(code, message));
    const encoding = req.headers["content-encoding"];
    if (encoding && encoding !== "identity") return fail(400, "invalid_input", `Content-Encoding ${encoding} is not accepted`);
    const body = await readBody(req, MAX_PAYLOAD_BYTES);
    if (body === undefined) return fail(413, "payload_too_large", "The request body is too large");
    const signature = header(req, "x-hub-signature-256");
    const event = header(req, "x-github-event");
    const id = header(req, "x-github-delivery");
    if (!signature) return fail(401, "unauthenticated", "X-Hub-Signature-256 is missing");
    if (!(await probot.webhooks.verify(body, signature).catch(() => false))) {
      return fail(401, "unauthenticated", "X-Hub-Signature-256 does not match the payload and secret");
    }
    if (!event || !id) return fail(400, "invalid_input", "X-GitHub-Event and X-GitHub-Delivery are required");
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return fail(400, "invalid_input", "The payload is not JSON");
    }
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      return fail(400, "invalid_input", "The payload is not a JSON object");
    }
    try {
      await dispatcher.receive({ id, name: event, payload: payload as ReceivedDelivery["payload"] });
      answer(res, 200, { ok: true });
    } catch (error) {
      // GitHub shows the failure on the delivery; `octoplex redeliver` can ask for it again.
      log.error({ err: error, deliveryId: id, event }, "webhook handler failed");
      if (isDatabaseUnavailable(error)) fail(503, "database_unavailable", `The database is not answering; delivery ${id} can be redelivered`);
      else fail(500, "internal", `Handling delivery ${id} failed; it was not recorded and can be redelivered`);
    }
  };
}

/** The same handler as an express route, for the express app (Lambda's HTTP path, route listings). */
export function createWebhookRouter(handler: WebhookHandler): Router {
  const router = Router();
  router.post(WEBHOOK_PATH, (req, res, next) => void handler(req, res).catch(next));
  return router;
}

/** Is this request one for the webhook handler, as it arrives on node:http (`req.url` with its query)? */
export function isWebhookRequest(req: IncomingMessage): boolean {
  if (req.method !== "POST" || !req.url) return false;
  const query = req.url.indexOf("?");
  return (query === -1 ? req.url : req.url.slice(0, query)) === WEBHOOK_PATH;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body as UTF-8 text, or undefined past `limit` bytes (the rest is read and discarded). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"]) > limit) {
      req.resume();
      return resolve(undefined);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
