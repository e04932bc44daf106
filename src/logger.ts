import pino, { Logger } from "pino";
import type { LogLevel } from "./config";

// Secrets travel in these fields; pino replaces them before anything is written.
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-hub-signature-256"]',
  'res.headers["set-cookie"]',
  "token",
  "*.token",
  "refreshToken",
  "*.refreshToken",
  "privateKey",
  "*.privateKey",
  "clientSecret",
  "*.clientSecret",
  "code",
  "*.code",
];

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino({ name: "octoplex", level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, destination);
}
