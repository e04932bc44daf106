import type { Response } from "express";
import type { ErrorCode } from "../errors";

export function sendError(
  res: Response,
  status: number,
  code: ErrorCode,
  message: string,
  extra: { details?: unknown; fields?: Record<string, unknown> } = {},
): void {
  const details = extra.details === undefined ? {} : { details: extra.details };
  res.status(status).json({ error: { code, message, ...details, ...extra.fields } });
}
