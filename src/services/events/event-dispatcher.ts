import type { Knex } from "knex";
import type { Logger } from "pino";
import { Webhook } from "standardwebhooks";
import { attachBodies, claimOutboxEvent, listDeliverable, markAttemptFailed, markDelivered, OutboxEvent } from "../../repositories/outbox";

export interface DispatcherOptions {
  db: Knex;
  now: () => Date;
  log: Logger;
  url: string;
  /** Standard Webhooks secret (`whsec_…` base64). */
  secret: string;
  timeoutMs?: number;
  /** Backoff base and cap; the attempt n waits about base·2ⁿ (with jitter), at most cap. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  random?: () => number;
}

export interface DispatchReport {
  delivered: number;
  retrying: number;
  failed: number;
}

/**
 * Delivers the outbox to the platform at least once, in order per team: only the oldest pending
 * event of a team is eligible, and a claim (locked_until) keeps two dispatchers — two processes,
 * or a timer and a Lambda drain — from sending the same event at once.
 */
export function createEventDispatcher(options: DispatcherOptions) {
  const { db, now, log, url } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const base = options.backoffBaseMs ?? 2_000;
  const cap = options.backoffCapMs ?? 60 * 60 * 1000;
  const random = options.random ?? Math.random;
  const signer = new Webhook(options.secret);

  function nextAttempt(event: OutboxEvent): Date | null {
    const delay = Math.min(cap, base * 2 ** event.attempts);
    // Full jitter: receivers that come back up are not hit by every sender at the same instant.
    const at = new Date(now().getTime() + Math.round(delay / 2 + (random() * delay) / 2));
    return at > event.giveUpAt ? null : at;
  }

  async function send(event: OutboxEvent): Promise<void> {
    const body = event.body ?? JSON.stringify(event.payload);
    const at = now();
    const signature = signer.sign(event.messageId, at, body);
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": event.messageId,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": signature,
        "user-agent": "Octoplex",
      },
      body,
      // The signed body is for this URL only: a redirect would hand it to whatever address the
      // answer names and count that as delivered. A 3xx is a failed attempt, retried as any other.
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 300 && res.status < 400) throw new Error(`HTTP ${res.status} (a redirect; redirects are not followed)`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  }

  return {
    /** One pass over what is due; call again (timer, schedule) for what comes due later. */
    async dispatchDue(limit = 100): Promise<DispatchReport> {
      const report: DispatchReport = { delivered: 0, retrying: 0, failed: 0 };
      for (;;) {
        const due = await listDeliverable(db, now(), limit);
        if (due.length === 0) return report;
        await attachBodies(db, due);
        let progressed = false;
        // Different teams in parallel; one team's events strictly one after another.
        await Promise.all(
          due.map(async (event) => {
            if (!(await claimOutboxEvent(db, event.id, new Date(now().getTime() + timeoutMs + 5_000), now()))) return;
            try {
              await send(event);
              await markDelivered(db, event.id, now());
              report.delivered++;
              progressed = true;
            } catch (error) {
              const next = nextAttempt(event);
              const reason = (error as Error).name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : (error as Error).message;
              await markAttemptFailed(db, event.id, reason, next);
              if (next) report.retrying++;
              else report.failed++;
              log.warn({ eventId: event.messageId, type: event.type, attempt: event.attempts + 1, reason, gaveUp: !next }, "platform event not delivered");
            }
          }),
        );
        if (!progressed) return report;
      }
    },
  };
}

export type EventDispatcher = ReturnType<typeof createEventDispatcher>;
