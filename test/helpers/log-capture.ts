import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pino, { Logger } from "pino";
import { createLogger } from "../../src/logger";

/** Set by the global setup: every test process writes its logs under this directory. */
export const LOG_DIR_ENV = "OCTOPLEX_TEST_LOG_DIR";

/**
 * The app's own logger (with its redaction), at trace level, writing to a file per test process,
 * so the global teardown can scan everything the whole suite logged for secrets.
 */
export function captureLogger(): Logger {
  const dir = process.env[LOG_DIR_ENV];
  if (!dir) return pino({ level: "silent" });
  mkdirSync(dir, { recursive: true });
  return createLogger({ logLevel: "trace", logFormat: "json" }, pino.destination({ dest: join(dir, `${process.pid}.log`), sync: true, append: true }));
}
