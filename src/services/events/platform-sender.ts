import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { createHmac } from "node:crypto";

export interface PlatformSender {
  /** POSTs one signed event; resolves once answered 2xx, rejects otherwise (a 3xx too). */
  send(messageId: string, body: string): Promise<void>;
  close(): void;
}

/**
 * The Standard Webhooks signature, `v1,` and base64 of HMAC-SHA256 over `id.timestamp.body` keyed
 * with the secret's bytes (base64 after `whsec_`). With node:crypto rather than the
 * `standardwebhooks` package, whose pure-JavaScript SHA-256 took a third of the dispatcher's time;
 * the tests verify these signatures with that package.
 */
function signer(secret: string): (messageId: string, timestamp: number, body: string) => string {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
  return (messageId, timestamp, body) => `v1,${createHmac("sha256", key).update(`${messageId}.${timestamp}.`).update(body).digest("base64")}`;
}

/**
 * Signs (Standard Webhooks) and POSTs events to the platform over kept-alive connections, at most
 * `connections` at once. node:http rather than fetch: on these 2 cores undici's fetch cost
 * 2–3× as much per request, and the dispatcher sends thousands a second.
 */
export function createPlatformSender(options: { url: string; secret: string; timeoutMs: number; connections: number; now: () => Date }): PlatformSender {
  const { timeoutMs, now } = options;
  const url = new URL(options.url);
  const https = url.protocol === "https:";
  const agent = new (https ? HttpsAgent : HttpAgent)({ keepAlive: true, maxSockets: options.connections, scheduling: "fifo" });
  const request = https ? httpsRequest : httpRequest;
  const sign = signer(options.secret);

  return {
    send(messageId, body) {
      const timestamp = Math.floor(now().getTime() / 1000);
      const headers = {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body)),
        "webhook-id": messageId,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": sign(messageId, timestamp, body),
        "user-agent": "Octoplex",
      };
      return new Promise<void>((resolve, reject) => {
        // node:http follows no redirect: the signed body is for this URL only, and a 3xx is a
        // failed attempt, retried as any other.
        const req = request(url, { method: "POST", agent, headers }, (res) => {
          res.resume();
          res.on("error", reject);
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (status >= 300 && status < 400) reject(new Error(`HTTP ${status} (a redirect; redirects are not followed)`));
            else if (status < 200 || status >= 300) reject(new Error(`HTTP ${status}`));
            else resolve();
          });
        });
        const timer = setTimeout(() => req.destroy(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { name: "TimeoutError" })), timeoutMs);
        req.on("close", () => clearTimeout(timer));
        req.on("error", reject);
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/**
 * Why an attempt failed, in words a team may read (its audit trail shows them): the status or
 * the timeout as they are, a network error by its code only, as its message names the
 * platform's addresses. The log keeps the whole error for the operator.
 */
export function failureReason(error: unknown): string {
  const { message, code } = error as { message?: string; code?: unknown };
  if (typeof message === "string" && (/^HTTP \d{3}/.test(message) || /^timed out after \d+ ms$/.test(message))) return message;
  return typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code) ? `connection failed (${code})` : "connection failed";
}
