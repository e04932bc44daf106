import pino, { Logger } from "pino";
import type { Config } from "./config";
import { redactTokens } from "./redact-tokens";

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
  // GitHub's own spelling, as in an OAuth or token-mint answer logged whole.
  "access_token",
  "*.access_token",
  "refresh_token",
  "*.refresh_token",
  // octokit's RequestError carries the request (an OAuth body holds client secret, code or
  // refresh token) and the response (which may hold tokens): never write either.
  "err.request",
  "err.response",
  "error.request",
  "error.response",
];

export function createLogger(
  config: Pick<Config, "logLevel" | "logFormat">,
  destination: pino.DestinationStream = defaultDestination(config.logFormat),
): Logger {
  return pino(
    {
      name: "octoplex",
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      // Paths cannot cover free text: an upstream error's message (and so its stack) may quote a token.
      hooks: { streamWrite: redactTokens },
    },
    destination,
  );
}

/** JSON lines, or pino-pretty's for a human reader; on stdout unless given `output` (tests read it). */
export function defaultDestination(format: Config["logFormat"], output?: NodeJS.WritableStream): pino.DestinationStream {
  const humanReader = format === "pretty" || (format === undefined && process.stdout.isTTY);
  if (!humanReader) return output ? (output as pino.DestinationStream) : pino.destination(1);
  // Loaded only for a terminal: JSON logs (and the CLI, which logs nothing) skip its load time.
  const pretty = require("pino-pretty") as typeof import("pino-pretty");
  return pretty({ colorize: !output && process.stdout.isTTY, sync: true, ignore: "pid,hostname", ...(output ? { destination: output } : {}) });
}
