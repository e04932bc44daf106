/**
 * The platform's end of "events to the platform": a real HTTP server on loopback that checks each
 * request's Standard Webhooks signature with the `standardwebhooks` package, as a platform would.
 *
 *   const receiver = await startPlatformReceiver();
 *   startTestServer(database, platformEnv(receiver));   // PLATFORM_WEBHOOK_URL + PLATFORM_WEBHOOK_SECRET
 *   receiver.mode = "error";                            // answer 500 ("ok": 200, "hang": never answer)
 *   receiver.failingTeams.add(7);                       // answer 500 to events whose data.teamId is 7, whatever the mode
 *   await receiver.down(); … await receiver.up();       // connection refused meanwhile, then the same URL again
 *   receiver.received                                   // every request, in arrival order, with the verification result
 */
import { randomBytes } from "node:crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** A Standard Webhooks secret: whsec_ and base64 of 32 random bytes. */
export function newPlatformSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export interface PlatformEventBody {
  id: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

export interface ReceivedRequest {
  /** The `webhook-id` header. */
  webhookId: string;
  timestamp: string;
  /** The raw body as it arrived. */
  raw: string;
  body: PlatformEventBody;
  /** What `new Webhook(secret).verify(raw, headers)` said: true, or its error message. */
  verified: true | string;
  /** The status answered; null for a request never answered ("hang"). */
  status: number | null;
}

export type ReceiverMode = "ok" | "error" | "hang";

export interface PlatformReceiver {
  url: string;
  secret: string;
  mode: ReceiverMode;
  /** How long an answer takes ("ok" and "error"). */
  delayMs: number;
  /** Teams whose events are answered 500 (by `data.teamId`), as if their endpoint failed. */
  readonly failingTeams: Set<number>;
  readonly received: ReceivedRequest[];
  /** The requests answered 2xx, in arrival order. */
  accepted(): ReceivedRequest[];
  /** The most requests carrying one webhook-id that were ever in progress at the same time. */
  readonly maxConcurrentPerId: number;
  /** Stops listening: connections are refused until up(). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export function platformEnv(receiver: { url: string; secret: string }): NodeJS.ProcessEnv {
  return { PLATFORM_WEBHOOK_URL: receiver.url, PLATFORM_WEBHOOK_SECRET: receiver.secret };
}

export async function startPlatformReceiver(options: { secret?: string; mode?: ReceiverMode; delayMs?: number } = {}): Promise<PlatformReceiver> {
  const secret = options.secret ?? newPlatformSecret();
  const verifier = new Webhook(secret);
  const received: ReceivedRequest[] = [];
  const inFlight = new Map<string, number>();
  let maxConcurrentPerId = 0;
  let server: Server | undefined;
  let port = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const webhookId = String(req.headers["webhook-id"] ?? "");
    let verified: true | string = true;
    try {
      verifier.verify(raw, req.headers as Record<string, string>);
    } catch (error) {
      verified = (error as Error).message;
    }
    let body: PlatformEventBody;
    try {
      body = JSON.parse(raw) as PlatformEventBody;
    } catch {
      body = { id: "", type: "", occurredAt: "", data: {} };
    }
    const entry: ReceivedRequest = { webhookId, timestamp: String(req.headers["webhook-timestamp"] ?? ""), raw, body, verified, status: null };
    received.push(entry);
    inFlight.set(webhookId, (inFlight.get(webhookId) ?? 0) + 1);
    maxConcurrentPerId = Math.max(maxConcurrentPerId, inFlight.get(webhookId)!);
    const release = () => inFlight.set(webhookId, inFlight.get(webhookId)! - 1);
    if (receiver.mode === "hang") {
      req.socket.once("close", release);
      return;
    }
    if (receiver.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, receiver.delayMs));
    const failing = receiver.mode !== "ok" || receiver.failingTeams.has(Number(body.data?.teamId));
    entry.status = verified !== true ? 400 : failing ? 500 : 200;
    release();
    res.writeHead(entry.status, { "content-type": "application/json" }).end(JSON.stringify(entry.status === 200 ? { ok: true } : { error: verified === true ? "down for maintenance" : verified }));
  }

  async function listen(): Promise<void> {
    const next = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
    await new Promise<void>((resolve, reject) => {
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => resolve());
    });
    port = (next.address() as AddressInfo).port;
    server = next;
  }

  async function stop(): Promise<void> {
    const current = server;
    server = undefined;
    if (!current) return;
    current.closeAllConnections();
    await new Promise<void>((resolve) => current.close(() => resolve()));
  }

  await listen();
  const receiver: PlatformReceiver = {
    url: `http://127.0.0.1:${port}/octoplex/events`,
    secret,
    mode: options.mode ?? "ok",
    delayMs: options.delayMs ?? 0,
    failingTeams: new Set(),
    received,
    accepted: () => received.filter((r) => r.status !== null && r.status >= 200 && r.status < 300),
    get maxConcurrentPerId() {
      return maxConcurrentPerId;
    },
    down: stop,
    async up() {
      // Another process may take the port while it is free; that would be a test-machine accident.
      await listen();
    },
    close: stop,
  };
  return receiver;
}

/** Polls `check` until it is true or `timeoutMs` passes (then fails with `what`). */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
