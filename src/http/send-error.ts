import type { Response } from "express";
import type { ErrorCode } from "../errors";

interface ErrorExtra {
  details?: unknown;
  fields?: Record<string, unknown>;
}

/** The contract's error body: `{ error: { code, message, details?, …fields } }`. */
export function errorBody(code: ErrorCode, message: string, extra: ErrorExtra = {}) {
  // API.md: invalid_input always carries `details`; a refusal of the input as a whole (a body that
  // is not JSON, a cursor this API never issued) is one problem at path "", as zod reports a root issue.
  const details = extra.details ?? (code === "invalid_input" ? [{ path: "", message }] : undefined);
  return { error: { code, message, ...(details === undefined ? {} : { details }), ...extra.fields } };
}

export function sendError(res: Response, status: number, code: ErrorCode, message: string, extra: ErrorExtra = {}): void {
  res.status(status).json(errorBody(code, message, extra));
}
