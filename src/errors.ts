/** Errors with a stable code that the HTTP layer maps to a status and `{ error: { code, message } }`. */
export type ErrorCode =
  | "invalid_input"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "installation_suspended"
  | "payload_too_large"
  | "github_unavailable"
  | "internal";

const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  installation_suspended: 409,
  payload_too_large: 413,
  github_unavailable: 502,
  internal: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    status?: number,
  ) {
    super(message);
    this.name = "AppError";
    this.status = status ?? STATUS[code];
  }
}
