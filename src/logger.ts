import pino, { Logger } from "pino";
import type { Config } from "./config";

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
  // octokit's RequestError carries the request (an OAuth body holds client secret, code or
  // refresh token) and the response (which may hold tokens): never write either.
  "err.request",
  "err.response",
  "error.request",
  "error.response",
];

/** GitHub tokens (gho_ ghp_ ghr_ ghs_ ghu_) and Octoplex API keys, wherever they appear in a line. */
const TOKEN_SHAPED = /\b(gh[oprsu]_|opx_)[A-Za-z0-9_-]{20,}/g;

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
      hooks: { streamWrite: (line) => line.replace(TOKEN_SHAPED, "$1[redacted]") },
    },
    destination,
  );
}

function defaultDestination(format: Config["logFormat"]): pino.DestinationStream {
  const humanReader = format === "pretty" || (format === undefined && process.stdout.isTTY);
  if (!humanReader) return pino.destination(1);
  // Loaded only for a terminal: JSON logs (and the CLI, which logs nothing) skip its load time.
  const pretty = require("pino-pretty") as typeof import("pino-pretty");
  return pretty({ colorize: process.stdout.isTTY, sync: true, ignore: "pid,hostname" });
}
