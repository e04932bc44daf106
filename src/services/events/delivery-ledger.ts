import type { Knex } from "knex";
import { Dialect, dialectOf, isUniqueViolation } from "../../db/knex";
import { CommitLane, commitLane } from "../../db/commit-if-holds";
import type { JsonStatement } from "../../db/json-statements";
import {
  DeliveryRecord,
  hasDelivery,
  insertDeliveriesStatement,
  noneRecordedCondition,
  recordDeliveries,
} from "../../repositories/webhook-deliveries";
import { isDatabaseUnavailable } from "../health";

export type Delivery = DeliveryRecord;
export type Outcome = "applied" | "duplicate" | "ignored";

/** What a delivery does, in the transaction that records it. */
export type Work = (trx: Knex.Transaction) => Promise<Outcome | void>;

/**
 * Work that many deliveries can do together in a few set-based statements, with the outcome each
 * would have had on its own (in order). Deliveries in a row that share a step are given to it at once.
 */
export interface BatchStep<T> {
  apply(trx: Knex.Transaction, items: T[]): Promise<Outcome[]>;
  /**
   * The same work as statements, for a batch of this step's deliveries alone when none of them
   * was recorded before: the hot path, one round trip per batch (db/commit-if-holds.ts). The conditions
   * say what else must hold for the writes to be what `apply` would do; undefined when the items
   * cannot be written so (the writes of one statement must not touch the same row).
   */
  plan?(dialect: Dialect, entries: Array<{ item: T; delivery: Delivery }>): Planned | undefined;
}

export interface Planned {
  conditions: JsonStatement[];
  writes: JsonStatement[];
}

export interface BatchedWork<T> {
  step: BatchStep<T>;
  item: T;
}

export type DeliveryLedger = <T>(delivery: Delivery, work: Work | BatchedWork<T>) => Promise<Outcome>;

export interface LedgerOptions {
  /** Most deliveries in one transaction. */
  maxBatch?: number;
  /**
   * Commit batches of a step that can plan statements on a raw connection (default). false runs
   * every delivery through knex: the reference the plans are tested against.
   */
  planned?: boolean;
}

type Answer = () => void;

interface Pending {
  delivery: Delivery;
  work: Work | BatchedWork<unknown>;
  resolve(outcome: Outcome): void;
  reject(error: unknown): void;
}

/**
 * Applies a delivery exactly once: its id is recorded in the same transaction as its effects, so
 * a redelivery of something applied changes nothing, and a failure forgets the id so a
 * redelivery can try again.
 *
 * Group commit: a delivery that arrives while a transaction is running waits for the next one,
 * which takes every delivery waiting by then (up to `maxBatch`). Each is answered only after that
 * commit, so nothing acknowledged can be lost (under load, once the next batch is sent, so that the
 * connection is not idle while responses are written); an idle ledger starts once the current
 * event-loop turn ends, so a lone delivery waits for nobody. One transaction per delivery was the bottleneck
 * of the webhook path (STACK.md pitfall 11). A batch whose step can plan statements is one round
 * trip (commitPlanned) on a connection kept for the burst (commitLane); any other, or one whose
 * bet fails, is a knex transaction. When a batch fails, its deliveries are
 * applied again one by one, so one bad delivery fails alone.
 */
export function createDeliveryLedger(db: Knex, now: () => Date, options: LedgerOptions = {}): DeliveryLedger {
  const { maxBatch = 100, planned = true } = options;
  const waiting: Pending[] = [];
  let draining = false;

  async function drain(): Promise<void> {
    draining = true;
    // One connection for the planned batches of a burst, given back when the burst ends.
    const lane = commitLane(db);
    let answerLast: Answer | undefined;
    try {
      while (waiting.length > 0) {
        // The rest of this turn's I/O first: deliveries whose requests are read in the same turn
        // join the batch. Under load that makes batches larger, and Postgres's cost is mostly per
        // batch; when idle the turn is over at once.
        await new Promise((resolve) => setImmediate(resolve));
        const committing = commit(waiting.splice(0, maxBatch), lane);
        // The last batch is answered once this one is on its way to the database: writing its
        // responses would otherwise hold the next statement back, the connection idle meanwhile.
        answerLast?.();
        answerLast = await committing;
      }
    } finally {
      // Not draining before the answers: a delivery they cause must start a drain of its own.
      draining = false;
      answerLast?.();
      await lane.release().catch(() => undefined);
    }
  }

  /** Commits the batch; what it returns answers the planned batch's deliveries (the others are answered already). */
  async function commit(batch: Pending[], lane: CommitLane): Promise<Answer | undefined> {
    const step = planned ? plannedStep(batch) : undefined;
    if (step) {
      try {
        const outcomes = await commitPlanned(batch, step, lane);
        if (outcomes) {
          await lane.yieldToWaiters().catch(() => undefined);
          return () => batch.forEach((p, i) => p.resolve(outcomes[i]));
        }
      } catch (error) {
        if (failedForAll(batch, error)) return undefined;
      }
    }
    // knex takes a connection of its own: SQLite's pool has only the one the lane may hold.
    await lane.release().catch(() => undefined);
    if (batch.length > 1) {
      try {
        const outcomes = await db.transaction((trx) => applyAll(trx, batch));
        batch.forEach((p, i) => p.resolve(outcomes[i]));
        return undefined;
      } catch (error) {
        // Otherwise fall through: which delivery failed, and why, is found out by applying each alone.
        if (failedForAll(batch, error)) return undefined;
      }
    }
    for (const p of batch) await applyAlone(p);
    return undefined;
  }

  /**
   * A database that does not answer fails every delivery of the batch at once: trying them again,
   * and again one by one, would each wait for it as long (GitHub gives up on a delivery after 10 s).
   */
  function failedForAll(batch: Pending[], error: unknown): boolean {
    if (!isDatabaseUnavailable(error)) return false;
    batch.forEach((p) => p.reject(error));
    return true;
  }

  async function applyAlone(p: Pending): Promise<void> {
    try {
      p.resolve((await db.transaction((trx) => applyAll(trx, [p])))[0]);
    } catch (error) {
      // Two copies of one delivery at the same moment (two processes): the loser sees the
      // winner's id. A unique violation raised by the work itself is a failure like any other:
      // nothing was recorded, so rethrow and let GitHub redeliver rather than report a duplicate.
      if (isUniqueViolation(error) && (await hasDelivery(db, p.delivery.id).catch(() => false))) p.resolve("duplicate");
      else p.reject(error);
    }
  }

  /**
   * The batch recorded and applied in one round trip, betting that none of it was recorded before
   * (redeliveries are rare) and that the step's conditions hold; undefined, with nothing written,
   * when that does not hold, and the batch goes the way of any other.
   */
  async function commitPlanned(batch: Pending[], step: BatchStep<unknown>, lane: CommitLane): Promise<Outcome[] | undefined> {
    const dialect = dialectOf(db);
    const seen = new Set<string>();
    // A copy of a delivery later in the same batch is a duplicate of the first.
    const outcomes: Outcome[] = batch.map(({ delivery }) => (seen.has(delivery.id) ? "duplicate" : (seen.add(delivery.id), "applied")));
    const entries = batch
      .filter((_, i) => outcomes[i] === "applied")
      .map((p) => ({ item: (p.work as BatchedWork<unknown>).item, delivery: p.delivery }));
    const planned = step.plan!(dialect, entries);
    if (!planned) return undefined;
    const deliveries = entries.map((e) => e.delivery);
    const held = await lane.commit(
      [noneRecordedCondition(dialect, [...seen]), ...planned.conditions],
      [insertDeliveriesStatement(dialect, deliveries, now()), ...planned.writes],
    );
    return held ? outcomes : undefined;
  }

  async function applyAll(trx: Knex.Transaction, batch: Pending[]): Promise<Outcome[]> {
    const recorded = await recordDeliveries(
      trx,
      batch.map((p) => p.delivery),
      now(),
    );
    const outcomes: Outcome[] = batch.map(() => "duplicate");
    // A copy of a delivery later in the same batch is a duplicate of the first.
    const fresh = batch.flatMap((p, i) => (recorded.delete(p.delivery.id) ? [i] : []));
    for (let k = 0; k < fresh.length; ) {
      const work = batch[fresh[k]].work;
      if (typeof work === "function") {
        outcomes[fresh[k++]] = (await work(trx)) || "applied";
        continue;
      }
      let end = k + 1;
      while (end < fresh.length && sameStep(batch[fresh[end]].work, work.step)) end++;
      const run = fresh.slice(k, end);
      const results = await work.step.apply(
        trx,
        run.map((i) => (batch[i].work as BatchedWork<unknown>).item),
      );
      run.forEach((i, j) => (outcomes[i] = results[j]));
      k = end;
    }
    return outcomes;
  }

  return (delivery, work) =>
    new Promise<Outcome>((resolve, reject) => {
      waiting.push({ delivery, work: work as Work | BatchedWork<unknown>, resolve, reject });
      if (!draining) void drain();
    });
}

/** The step every delivery of the batch is for, when it can plan statements. */
function plannedStep(batch: Pending[]): BatchStep<unknown> | undefined {
  const first = batch[0].work;
  if (typeof first === "function" || !first.step.plan) return undefined;
  return batch.every((p) => sameStep(p.work, first.step)) ? first.step : undefined;
}

function sameStep(work: Work | BatchedWork<unknown>, step: BatchStep<unknown>): boolean {
  return typeof work !== "function" && work.step === step;
}
