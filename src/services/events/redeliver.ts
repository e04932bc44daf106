import type { Knex } from "knex";
import { HookDelivery, listHookDeliveries, requestRedelivery } from "../../github/hook-deliveries";
import { readJobState, writeJobState } from "../../repositories/job-state";
import { hasDelivery } from "../../repositories/webhook-deliveries";
import type { GithubAccess } from "../github-access/github-access";

const STATE = "redeliver";
// GitHub keeps deliveries for 3 days: nothing older can be redelivered.
const HISTORY_MS = 3 * 24 * 60 * 60 * 1000;
// Look back a little before where the last run stopped, to see the outcome of its redeliveries.
const OVERLAP_MS = 60 * 60 * 1000;

interface RedeliverState {
  /** delivered_at of the newest delivery the last run saw. */
  newestSeen?: string;
  /** guid → when a redelivery was requested; not asked again while it is in flight. */
  requested: Record<string, string>;
}

export interface RedeliverReport {
  scanned: number;
  failed: number;
  alreadyProcessed: number;
  alreadyRequested: number;
  redelivered: Array<{ guid: string; event: string; action: string | null; deliveryId: number }>;
}

/**
 * GitHub does not retry a failed delivery by itself. This lists the app's deliveries (app JWT)
 * back to where the last run stopped and asks again for each one whose latest attempt failed and
 * that Octoplex never processed.
 */
export function createRedeliver({ db, now, github }: { db: Knex; now: () => Date; github: GithubAccess }) {
  return async function redeliver(options: { sinceMs?: number; onProgress?: (scanned: number) => void } = {}): Promise<RedeliverReport> {
    const state = await readJobState<RedeliverState>(db, STATE, { requested: {} });
    const oldestUseful = now().getTime() - HISTORY_MS;
    const from =
      options.sinceMs !== undefined
        ? now().getTime() - options.sinceMs
        : state.newestSeen
          ? Date.parse(state.newestSeen) - OVERLAP_MS
          : oldestUseful;
    const cutoff = Math.max(from, oldestUseful);

    let scanned = 0;
    const deliveries = await github.asApp((o) =>
      listHookDeliveries(o, (d) => {
        if (++scanned % 100 === 0) options.onProgress?.(scanned);
        return Date.parse(d.delivered_at) < cutoff;
      }),
    );
    const report: RedeliverReport = { scanned: deliveries.length, failed: 0, alreadyProcessed: 0, alreadyRequested: 0, redelivered: [] };

    // Newest first: the first attempt seen of a guid is its latest.
    const latest = new Map<string, HookDelivery>();
    for (const d of deliveries) if (!latest.has(d.guid)) latest.set(d.guid, d);

    const requested = Object.fromEntries(Object.entries(state.requested).filter(([, at]) => Date.parse(at) > oldestUseful));
    try {
      for (const delivery of latest.values()) {
        if (delivery.status_code >= 200 && delivery.status_code < 300) continue;
        report.failed++;
        if (await hasDelivery(db, delivery.guid)) {
          report.alreadyProcessed++;
          continue;
        }
        if (requested[delivery.guid] && Date.parse(requested[delivery.guid]) > Date.parse(delivery.delivered_at)) {
          report.alreadyRequested++;
          continue;
        }
        await github.asApp((o) => requestRedelivery(o, delivery.id));
        requested[delivery.guid] = now().toISOString();
        report.redelivered.push({ guid: delivery.guid, event: delivery.event, action: delivery.action, deliveryId: delivery.id });
      }
    } catch (error) {
      // Keep what was asked for, and the old starting point: the next run resumes without repeats.
      await writeJobState(db, STATE, { newestSeen: state.newestSeen, requested } satisfies RedeliverState, now());
      throw error;
    }

    const newest = deliveries[0]?.delivered_at ?? state.newestSeen;
    await writeJobState(db, STATE, { newestSeen: newest, requested } satisfies RedeliverState, now());
    return report;
  };
}

export type Redeliver = ReturnType<typeof createRedeliver>;
