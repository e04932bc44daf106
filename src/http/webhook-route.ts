import express, { Router } from "express";
import type { Logger } from "pino";
import type { Probot } from "probot";
import type { ReceivedDelivery, WebhookDispatcher } from "../webhooks/dispatcher";
import { sendError } from "./send-error";

export const WEBHOOK_PATH = "/api/github/webhooks";
// GitHub caps webhook payloads at 25 MB; anything bigger is not GitHub.
const MAX_PAYLOAD = "25mb";

/**
 * GitHub's webhooks, verified (by Probot, with the app's secret) before anything is parsed or
 * stored, then handed to the dispatcher. Probot's own middleware answers 400 for a missing
 * signature; the contract wants 401 and our error shape.
 */
export function createWebhookRouter(probot: Probot, dispatcher: WebhookDispatcher, log: Logger): Router {
  const router = Router();
  router.post(WEBHOOK_PATH, express.text({ type: () => true, limit: MAX_PAYLOAD }), async (req, res) => {
    const signature = req.header("x-hub-signature-256");
    const event = req.header("x-github-event");
    const id = req.header("x-github-delivery");
    const body = typeof req.body === "string" ? req.body : "";
    if (!signature) return sendError(res, 401, "unauthenticated", "X-Hub-Signature-256 is missing");
    if (!(await probot.webhooks.verify(body, signature).catch(() => false))) {
      return sendError(res, 401, "unauthenticated", "X-Hub-Signature-256 does not match the payload and secret");
    }
    if (!event || !id) return sendError(res, 400, "invalid_input", "X-GitHub-Event and X-GitHub-Delivery are required");
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return sendError(res, 400, "invalid_input", "The payload is not JSON");
    }
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      return sendError(res, 400, "invalid_input", "The payload is not a JSON object");
    }
    try {
      await dispatcher.receive({ id, name: event, payload: payload as ReceivedDelivery["payload"] });
      res.status(200).json({ ok: true });
    } catch (error) {
      // GitHub shows the failure on the delivery; `octoplex redeliver` can ask for it again.
      log.error({ err: error, deliveryId: id, event }, "webhook handler failed");
      sendError(res, 500, "internal", `Handling delivery ${id} failed; it was not recorded and can be redelivered`);
    }
  });
  return router;
}
