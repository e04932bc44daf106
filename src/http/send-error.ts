import type { Response } from "express";
import type { ErrorCode } from "../errors";

export function sendError(
  res: Response,
  status: number,
  code: ErrorCode,
  message: string,
  extra: { details?: unknown; fields?: Record<string, unknown> } = {},
): void {
  // API.md: invalid_input always carries `details`; a refusal of the input as a whole (a body that
  // is not JSON, a cursor this API never issued) is one problem at path "", as zod reports a root issue.
  const details = extra.details ?? (code === "invalid_input" ? [{ path: "", message }] : undefined);
  res.status(status).json({ error: { code, message, ...(details === undefined ? {} : { details }), ...extra.fields } });
}
