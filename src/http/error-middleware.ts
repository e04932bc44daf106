import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";
import { AppError, RateLimited, ReauthorizationRequired } from "../errors";
import { isDatabaseUnavailable } from "../services/health";
import { bodyReadError } from "./json-body";
import { sendError } from "./send-error";

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, "not_found", `No route for ${req.method} ${req.path}`);
};

/** The one place errors become HTTP answers; anything unexpected is logged and hidden. */
export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (error instanceof ReauthorizationRequired) {
      const loginUrl = `/auth/login?return_to=${encodeURIComponent(req.originalUrl.startsWith("/api/") ? "/" : req.originalUrl)}`;
      sendError(res, error.status, error.code, error.message, { fields: { loginUrl } });
      return;
    }
    if (error instanceof RateLimited) res.set("Retry-After", String(error.retryAfterSeconds));
    if (error instanceof AppError) {
      sendError(res, error.status, error.code, error.message, { details: error.details, fields: error.fields });
      return;
    }
    // body-parser's own failures (the forms of the pages; jsonBody maps the API's itself).
    const bodyError = bodyReadError(error);
    if (bodyError) {
      sendError(res, bodyError.status, bodyError.code, bodyError.message);
      return;
    }
    // Down or restarting: a 503 the caller can retry (the pool reconnects by itself), not a bug to hide behind a 500.
    if (isDatabaseUnavailable(error)) {
      log.warn({ err: error, method: req.method, path: req.path }, "request failed: the database is unavailable");
      sendError(res, 503, "database_unavailable", "The database is not answering right now; try again shortly");
      return;
    }
    // A refusal from GitHub no service explained (an unexpected 4xx): upstream's, not ours.
    if ((error as { name?: string }).name === "HttpError") {
      const status = (error as { status?: number }).status;
      log.warn({ err: error, method: req.method, path: req.path }, "request failed: GitHub refused a call");
      sendError(res, 502, "github_unavailable", `GitHub refused a call Octoplex made for this request${status ? ` (HTTP ${status})` : ""}`);
      return;
    }
    log.error({ err: error, method: req.method, path: req.path }, "request failed");
    sendError(res, 500, "internal", "Something went wrong; the error has been logged");
  };
}
