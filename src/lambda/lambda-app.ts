import { createLambdaFunction } from "@probot/adapter-aws-lambda-serverless";
import serverless from "serverless-http";
import { migrateLatest } from "../db/migrate";
import type { Deps } from "../deps";
import { createHttpApp } from "../http/create-http-app";
import { WEBHOOK_PATH } from "../http/webhook-route";
import { registerWebhooks } from "../webhooks";
import { bodyOf, headersOf, HttpEvent, isHttpEvent, JobEvent, methodAndPath } from "./events";

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

/**
 * One Lambda serves everything: GitHub's webhooks through Probot's Lambda adapter, every other
 * path through the same express app `npm start` serves, and scheduled jobs.
 */
export function createLambdaApp(deps: Deps) {
  const probot = deps.probot;
  if (!probot) throw new Error("Lambda needs APP_ID and the private key");
  registerWebhooks(probot, deps.services);
  const receiveWebhook = createLambdaFunction(() => undefined, { probot });
  const http = serverless(createHttpApp(deps), { binary: ["image/*", "application/octet-stream"] });

  async function webhook(event: HttpEvent, context: unknown): Promise<LambdaResult> {
    const headers = headersOf(event);
    const id = headers["x-github-delivery"];
    if (!headers["x-hub-signature-256"]) return json(401, { error: { code: "unauthenticated", message: "X-Hub-Signature-256 is missing" } });
    if (!id || !headers["x-github-event"]) {
      return json(400, { error: { code: "invalid_input", message: "X-GitHub-Event and X-GitHub-Delivery are required" } });
    }
    // Verify here: the adapter throws on a bad signature instead of answering 4xx.
    const body = bodyOf(event);
    if (!(await probot!.webhooks.verify(body, headers["x-hub-signature-256"]).catch(() => false))) {
      return json(401, { error: { code: "unauthenticated", message: "X-Hub-Signature-256 does not match the payload and secret" } });
    }
    try {
      // The adapter reads headers and a plain body; hand it both normalised.
      await receiveWebhook({ headers, body, httpMethod: "POST", path: WEBHOOK_PATH } as never, context as never);
      return json(200, { ok: true });
    } catch (error) {
      if (error instanceof SyntaxError) return json(400, { error: { code: "invalid_input", message: "The payload is not JSON" } });
      deps.log.error({ err: error, deliveryId: id, event: headers["x-github-event"] }, "webhook handler failed");
      return json(500, { error: { code: "internal", message: `Handling delivery ${id} failed; it was not recorded and can be redelivered` } });
    }
  }

  async function job(event: JobEvent): Promise<unknown> {
    const name = event.octoplex?.job ?? (event["detail-type"] === "Scheduled Event" ? "reconcile" : undefined);
    if (name === "migrate") return migrateLatest(deps.db);
    if (name === "reconcile") {
      const report = await deps.services.reconcile();
      deps.log.info({ report }, "scheduled reconcile done");
      return report;
    }
    throw new Error(`unknown event: expected an HTTP event or a scheduled job, got ${JSON.stringify(Object.keys(event ?? {}))}`);
  }

  return {
    async handle(event: unknown, context: unknown): Promise<unknown> {
      if (!isHttpEvent(event)) return job(event as JobEvent);
      const { method, path } = methodAndPath(event);
      if (method === "POST" && path === WEBHOOK_PATH) return webhook(event, context);
      return http(event as never, context as never);
    },
  };
}

export type LambdaApp = ReturnType<typeof createLambdaApp>;
