import type { IncomingMessage, ServerResponse } from "node:http";
import { Router } from "express";
import type { Logger } from "pino";
import type { ErrorCode } from "../errors";
import { isDatabaseUnavailable } from "../services/health";
import type { ReceivedDelivery, WebhookDispatcher } from "../webhooks/dispatcher";
import { signatureCheck, signatureDigest } from "../webhooks/signature";
import { errorBody } from "./send-error";

export const WEBHOOK_PATH = "/api/github/webhooks";

export interface WebhookLimits {
  /** Bytes of one payload: GitHub caps them at 25 MB; anything bigger is not GitHub. */
  payloadBytes: number;
  /** Bytes of bodies not yet verified held at once, every request together. */
  unverifiedBytes: number;
  /** Milliseconds a body may take to arrive; then the connection is dropped, unanswered. */
  readMs: number;
}

// Two of GitHub's largest deliveries at once, and many ordinary ones; beyond it a forger's
// bodies would only be memory spent before their signature fails.
const LIMITS: WebhookLimits = { payloadBytes: 25 * 1024 * 1024, unverifiedBytes: 64 * 1024 * 1024, readMs: 10_000 };
// Seconds: a body in flight is read in well under that on any link that could send it.
const RETRY_AFTER = "5";

export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * GitHub's webhooks on plain node:http (as Probot's createNodeMiddleware serves them): the
 * signature is checked, with the app's webhook secret, before anything is parsed or stored, then
 * the delivery is handed to the dispatcher and answered once stored. Probot's own middleware
 * answers 400 for a missing signature; the contract wants 401 and our error shape.
 *
 * Nobody logs in to send a webhook, so what a stranger can make the server hold is bounded: a
 * request without a well-formed X-Hub-Signature-256 is refused before its body is read, and the
 * body is hashed as it arrives while its bytes count against a budget shared by every unverified
 * body (beyond it 503 with Retry-After, before reading when the announced length cannot fit) and
 * must arrive within GitHub's own 10 s. The bytes are kept, as the dispatcher needs them once they
 * prove to be GitHub's.
 */
export function createWebhookHandler(secret: string, dispatcher: WebhookDispatcher, log: Logger, limits: WebhookLimits = LIMITS): WebhookHandler {
  const budget = byteBudget(limits.unverifiedBytes);
  return async (req, res) => {
    const fail = (status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}) => answer(res, status, errorBody(code, message), headers);
    const encoding = req.headers["content-encoding"];
    if (encoding && encoding !== "identity") return fail(415, "unsupported_media_type", `Content-Encoding ${encoding} is not accepted`);
    const signature = header(req, "x-hub-signature-256");
    if (!signature) return fail(401, "unauthenticated", "X-Hub-Signature-256 is missing");
    const digest = signatureDigest(signature);
    if (!digest) return fail(401, "unauthenticated", "X-Hub-Signature-256 must be sha256= and 64 hex digits");
    const read = await readSigned(req, signatureCheck(secret, digest), limits, budget);
    if (read === "aborted") return;
    if (read === "slow") return void req.destroy();
    if (read === "too_large") return fail(413, "payload_too_large", "The request body is too large");
    if (read === "busy") return fail(503, "server_busy", "Too many webhook bodies are being received at once; retry shortly", { "retry-after": RETRY_AFTER });
    if (read === "mismatch") return fail(401, "unauthenticated", "X-Hub-Signature-256 does not match the payload and secret");
    const event = header(req, "x-github-event");
    const id = header(req, "x-github-delivery");
    if (!event || !id) return fail(400, "invalid_input", "X-GitHub-Event and X-GitHub-Delivery are required");
    const text = read.toString("utf8");
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return fail(400, "invalid_input", "The payload is not JSON");
    }
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      return fail(400, "invalid_input", "The payload is not a JSON object");
    }
    try {
      await dispatcher.receive({ id, name: event, payload: payload as ReceivedDelivery["payload"], rawPayload: text });
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

type ByteBudget = ReturnType<typeof byteBudget>;

function byteBudget(total: number) {
  let used = 0;
  return {
    fits: (bytes: number): boolean => used + bytes <= total,
    take(bytes: number): boolean {
      if (used + bytes > total) return false;
      used += bytes;
      return true;
    },
    give(bytes: number): void {
      used -= bytes;
    },
  };
}

type SignedRead = Buffer | "too_large" | "busy" | "mismatch" | "slow" | "aborted";

/**
 * The body, once its bytes match the signature. The bytes received count against `budget` until
 * then, so a stranger holds only what they really sent; an announced length that cannot fit is
 * refused unread. A refusal (too large, over budget) answers at once: the rest is read and dropped.
 */
function readSigned(req: IncomingMessage, check: ReturnType<typeof signatureCheck>, limits: WebhookLimits, budget: ByteBudget): Promise<SignedRead> {
  return new Promise((resolve) => {
    const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
    if (declared !== undefined && declared > limits.payloadBytes) return resolve("too_large");
    if (declared !== undefined && !budget.fits(declared)) return resolve("busy");
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (read: SignedRead) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      budget.give(size);
      chunks.length = 0;
      resolve(read);
    };
    // GitHub gives up on a delivery after 10 s; a body still arriving then is someone holding the budget.
    const deadline = setTimeout(() => settle("slow"), limits.readMs);
    req.on("data", (chunk: Buffer) => {
      if (settled) return;
      if (size + chunk.length > limits.payloadBytes) return settle("too_large");
      if (!budget.take(chunk.length)) return settle("busy");
      size += chunk.length;
      chunks.push(chunk);
      check.update(chunk);
    });
    req.on("end", () => settle(check.matches() ? Buffer.concat(chunks, size) : "mismatch"));
    req.on("close", () => settle("aborted"));
    req.on("error", () => settle("aborted"));
  });
}

function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
