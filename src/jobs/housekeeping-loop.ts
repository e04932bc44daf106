import type { Logger } from "pino";
import type { Housekeeping } from "../services/housekeeping";
import { every, Loop } from "./every";

/** How often `npm start` purges expired rows; the Lambda schedule in deploy/template.yaml is hourly. */
export const HOUSEKEEPING_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Under `npm start`: purge expired sign-in states, sessions and rate-limit windows every
 * `intervalMs`, one pass at a time. A pass missed while the process was down is caught up by the
 * next: each deletes everything expired by then.
 */
export function startHousekeepingLoop(housekeeping: Housekeeping, log: Logger, intervalMs = HOUSEKEEPING_INTERVAL_MS): Loop {
  return every(intervalMs, () =>
    housekeeping
      .purgeExpired()
      .then((purged) => log.debug({ purged }, "expired rows purged"))
      .catch((error) => log.error({ err: error }, "purging expired rows failed; the next pass retries")),
  );
}
