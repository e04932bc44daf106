import type { Logger } from "pino";
import type { EventDispatcher } from "../services/events/event-dispatcher";
import { every, Loop } from "./every";

/**
 * Under `npm start`: deliver the outbox. A call of dispatchDue runs passes back to back while they
 * deliver anything; once one finds nothing to send the loop sleeps until the next tick, `idleMs`
 * at most: an event written meanwhile waits that long at worst. Events written while the process
 * was down are picked up on the first pass, so a restart loses nothing.
 */
export function startDispatchLoop(dispatcher: EventDispatcher, log: Logger, idleMs = 100): Loop {
  return every(idleMs, () => dispatcher.dispatchDue().catch((error) => log.error({ err: error }, "event dispatch pass failed")));
}
