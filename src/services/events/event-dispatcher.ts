import type { Logger } from "pino";
import type { Db } from "../../db/knex";
import { attachBodies, OutboxEvent } from "../../repositories/outbox";
import { createPlatformSender, failureReason } from "./platform-sender";
import { claimOutboxEvents, DeliverableOptions, listDeliverable, markAttemptFailed, markDelivered, releaseClaims } from "../../repositories/outbox-dispatch";

export interface DispatcherOptions {
  db: Db;
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
  /** Requests in flight at once (over kept-alive connections). */
  concurrency?: number;
  /** Per pass: ordering keys taken, a team's keys at most, consecutive events of a key. */
  batch?: Partial<DeliverableOptions>;
}

export interface DispatchReport {
  delivered: number;
  retrying: number;
  failed: number;
}

/**
 * Delivers the outbox to the platform at least once, in order per ordering key: only the oldest
 * pending event of a key is eligible, and a claim (locked_until) keeps two dispatchers — two
 * processes, or a timer and a Lambda drain — from sending the same event at once.
 *
 * A pass costs a few statements whatever its size: one to choose (teams taking turns, see
 * listDeliverable), one to claim, one to mark what was delivered (auditing the routed GitHub
 * events among them, routed-event-audit.ts); only failures are written one by one. A key's chosen events go one after another, each once the one before was accepted.
 */
export function createEventDispatcher(options: DispatcherOptions) {
  const { db, now, log, url } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const base = options.backoffBaseMs ?? 2_000;
  const cap = options.backoffCapMs ?? 60 * 60 * 1000;
  const random = options.random ?? Math.random;
  const concurrency = options.concurrency ?? 32;
  const batch: DeliverableOptions = { keys: 200, perTeam: 20, chain: 10, ...options.batch };
  const sender = createPlatformSender({ url, secret: options.secret, timeoutMs, connections: concurrency, now });
  const send = (event: OutboxEvent) => sender.send(event.messageId, event.body ?? JSON.stringify(event.payload));

  function nextAttempt(event: OutboxEvent): Date | null {
    const delay = Math.min(cap, base * 2 ** event.attempts);
    // Full jitter: receivers that come back up are not hit by every sender at the same instant.
    const at = new Date(now().getTime() + Math.round(delay / 2 + (random() * delay) / 2));
    return at > event.giveUpAt ? null : at;
  }

  // Accepted by the platform but not recorded as delivered: the database failed as the pass ended.
  // The next pass records them first, while their claims still keep every dispatcher off them, so
  // a database blip does not send them again once the claims lapse.
  let unrecorded: number[] = [];

  async function recordDelivered(ids: number[], report: DispatchReport): Promise<void> {
    try {
      await markDelivered(db, ids, now());
    } catch (error) {
      unrecorded.push(...ids);
      throw error;
    }
    report.delivered += ids.length;
  }

  /** One batch: choose, claim, send, record. `keys` bounds the queues taken. */
  async function pass(keys: number, report: DispatchReport): Promise<boolean> {
    if (unrecorded.length > 0) {
      const ids = unrecorded;
      unrecorded = [];
      await recordDelivered(ids, report);
    }
    const chosen = await listDeliverable(db, now(), { ...batch, keys });
    if (chosen.length === 0) return false;
    // Long enough for the first attempt of every chain; a chain's next event is only sent while
    // a whole attempt still fits in the claim, so a dispatcher that dies frees its events soon.
    const until = new Date(now().getTime() + 2 * timeoutMs + 5_000);
    const claimed = new Map((await claimOutboxEvents(db, chosen.flat(), until, now())).map((e) => [e.id, e]));
    const unsent: number[] = [];
    const delivered: number[] = [];
    const failures: Array<{ event: OutboxEvent; reason: string; error: unknown }> = [];
    // A chain is sent from its first event up to the first one this dispatcher did not claim (another
    // took it meanwhile): a later event of the key must not overtake an earlier one.
    const chains = chosen
      .map((ids) => {
        const gap = ids.findIndex((id) => !claimed.has(id));
        const runnable = gap === -1 ? ids : ids.slice(0, gap);
        unsent.push(...ids.slice(runnable.length).filter((id) => claimed.has(id)));
        return runnable.map((id) => claimed.get(id)!);
      })
      .filter((chain) => chain.length > 0);
    // Routed GitHub events carry their delivery's payload, stored once and spliced in here.
    await attachBodies(db, chains.flat());

    let next = 0;
    const worker = async () => {
      while (next < chains.length) {
        const chain = chains[next++];
        for (let i = 0; i < chain.length; i++) {
          const event = chain[i];
          if (i > 0 && now().getTime() + timeoutMs > until.getTime() - 1_000) {
            unsent.push(...chain.slice(i).map((e) => e.id));
            break;
          }
          try {
            await send(event);
            delivered.push(event.id);
          } catch (error) {
            failures.push({ event, reason: failureReason(error), error });
            unsent.push(...chain.slice(i + 1).map((e) => e.id));
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, chains.length) }, worker));

    await recordDelivered(delivered, report);
    for (const { event, reason, error } of failures) {
      const next = nextAttempt(event);
      await markAttemptFailed(db, event.id, reason, next, now());
      if (next) report.retrying++;
      else report.failed++;
      log.warn({ eventId: event.messageId, type: event.type, attempt: event.attempts + 1, reason, err: error, gaveUp: !next }, "platform event not delivered");
    }
    await releaseClaims(db, unsent, until);
    return delivered.length > 0;
  }

  return {
    /**
     * Passes over what is due until one delivers nothing; call again (timer, schedule) for what
     * comes due later. `keys`: ordering keys per pass (a Lambda drain after a request takes few).
     */
    async dispatchDue(keys = batch.keys): Promise<DispatchReport> {
      const report: DispatchReport = { delivered: 0, retrying: 0, failed: 0 };
      while (await pass(keys, report));
      return report;
    },
  };
}

export type EventDispatcher = ReturnType<typeof createEventDispatcher>;
