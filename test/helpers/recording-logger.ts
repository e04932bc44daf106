import { join } from "node:path";
import { mkdirSync } from "node:fs";
import pino, { Logger } from "pino";
import { createLogger } from "../../src/logger";
import { LOG_DIR_ENV } from "./log-capture";

export interface RecordingLogger {
  log: Logger;
  /** Every line logged so far, parsed. */
  entries(): Array<Record<string, unknown>>;
  clear(): void;
}

/**
 * The app's own logger (with its redaction) at trace level, kept in memory for assertions and
 * also written to the suite's log capture, so the secret scan covers it.
 */
export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const dir = process.env[LOG_DIR_ENV];
  if (dir) mkdirSync(dir, { recursive: true });
  const file = dir ? pino.destination({ dest: join(dir, `${process.pid}.log`), sync: true, append: true }) : undefined;
  const stream = {
    write(line: string) {
      lines.push(line);
      file?.write(line);
    },
  };
  return {
    log: createLogger({ logLevel: "trace", logFormat: "json" }, stream),
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    clear: () => void lines.splice(0),
  };
}
