/** A background job under `npm start`: its stop() waits for the pass under way. */
export interface Loop {
  stop(): Promise<void>;
}

/**
 * Runs `pass` every `intervalMs`, one pass at a time: a tick that finds the previous pass still
 * running skips instead of piling up. The timer never keeps the process alive on its own.
 */
export function every(intervalMs: number, pass: () => Promise<unknown>): Loop {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = pass().finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
