import express, { Request, RequestHandler } from "express";
import { AppError } from "../errors";
import { jsonErrorPosition } from "./json-error-position";

/**
 * A JSON body of at most `limit` bytes, as `req.body`. Refused before a byte is read: a body
 * that is not JSON by its Content-Type (415; body-parser would leave `req.body` empty and the
 * route would complain about missing fields), and any Content-Encoding (415): a few kilobytes of
 * gzip inflate to megabytes, and no client of this API needs to compress what it sends.
 * A request without a body passes, for the route's schema to judge. `limit` is in bytes.
 */
export function jsonBody(limit: number): RequestHandler {
  const parse = express.json({ limit, inflate: false, strict: false });
  return (req, res, next) => {
    if (!hasBody(req)) return next();
    // body-parser reads a body it refuses for its length to the end before it answers.
    if (Number(req.headers["content-length"]) > limit) return next(new AppError("payload_too_large", "The request body is too large"));
    const encoding = req.headers["content-encoding"]?.trim().toLowerCase();
    if (encoding && encoding !== "identity") {
      return next(new AppError("unsupported_media_type", `Content-Encoding ${encoding} is not accepted: send the JSON uncompressed`));
    }
    if (!req.is("application/json")) {
      const type = req.headers["content-type"] ? `not ${req.headers["content-type"]}` : "and none was sent";
      return next(new AppError("unsupported_media_type", `Content-Type must be application/json, ${type}`));
    }
    parse(req, res, (error?: unknown) => next(error === undefined ? undefined : (bodyReadError(error) ?? error)));
  };
}

// A chunked transfer or a length above 0 (fetch sends `Content-Length: 0`, and no type, for a bodiless POST).
const hasBody = (req: Request) => req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"]) > 0;

/** body-parser's failures (JSON or form) as the contract's errors; undefined for any other error. */
export function bodyReadError(error: unknown): AppError | undefined {
  const { type, status, body } = error as { type?: string; status?: number; body?: unknown };
  switch (type) {
    case "entity.too.large":
      return new AppError("payload_too_large", "The request body is too large");
    case "entity.parse.failed":
      return new AppError("invalid_input", typeof body === "string" ? malformed(body) : "The request body is not valid JSON");
    case "encoding.unsupported":
      return new AppError("unsupported_media_type", "Content-Encoding is not accepted: send the body uncompressed");
    case "charset.unsupported":
      return new AppError("unsupported_media_type", "The request body's charset is not accepted: send UTF-8");
  }
  // The rest of body-parser's own 4xx (a body shorter than its Content-Length, an aborted upload).
  if (typeof status === "number" && status >= 400 && status < 500 && (type?.startsWith("request.") || type?.startsWith("stream."))) {
    return new AppError("invalid_input", "The request body could not be read");
  }
  return undefined;
}

/** Which character broke the JSON, and where (0-based offset, and line and column from 1). */
function malformed(text: string): string {
  const at = jsonErrorPosition(text);
  if (at < 0) return "The request body is not valid JSON";
  let line = 1;
  for (let nl = text.indexOf("\n"); nl !== -1 && nl < at; nl = text.indexOf("\n", nl + 1)) line++;
  const column = at - (at === 0 ? -1 : text.lastIndexOf("\n", at - 1));
  const where = `at position ${at} (line ${line}, column ${column})`;
  if (at >= text.length) return `The request body is not valid JSON: it ends ${where} before the JSON is complete`;
  return `The request body is not valid JSON: unexpected ${JSON.stringify(text[at])} ${where}`;
}
