import type { Logger } from "pino";
import type { EventDispatcher } from "../services/events/event-dispatcher";
import { every, Loop } from "./every";

/**
 * Under `npm start`: deliver the outbox every `intervalMs`, one pass at a time. Events written
 * while the process was down are picked up on the first pass, so a restart loses nothing.
 */
export function startDispatchLoop(dispatcher: EventDispatcher, log: Logger, intervalMs = 1000): Loop {
  return every(intervalMs, () => dispatcher.dispatchDue().catch((error) => log.error({ err: error }, "event dispatch pass failed")));
}
