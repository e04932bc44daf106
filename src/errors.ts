import { redactTokens } from "./redact-tokens";

/** Errors with a stable code that the HTTP layer maps to a status and `{ error: { code, message } }`. */
export type ErrorCode =
  | "invalid_input"
  | "user_required"
  | "unauthenticated"
  | "reauthorization_required"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "installation_suspended"
  | "payload_too_large"
  | "rate_limited"
  | "unsupported_media_type"
  | "github_unavailable"
  | "database_unavailable"
  | "server_busy"
  | "internal";

const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  user_required: 400,
  unauthenticated: 401,
  reauthorization_required: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  installation_suspended: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unsupported_media_type: 415,
  github_unavailable: 502,
  database_unavailable: 503,
  server_busy: 503,
  internal: 500,
};

export interface AppErrorOptions {
  details?: unknown;
  status?: number;
  /** Extra fields of the error object, e.g. `loginUrl` for reauthorization_required. */
  fields?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly status: number;
  readonly details?: unknown;
  readonly fields?: Record<string, unknown>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    // Some messages quote GitHub's (say "GitHub refused the repository: …"), and they reach
    // HTTP answers, pages and the CLI: a token GitHub echoed must not.
    super(redactTokens(message));
    this.name = "AppError";
    this.status = options.status ?? STATUS[code];
    this.details = options.details;
    this.fields = options.fields;
  }
}

/** The user's GitHub grant is gone or its refresh token is dead: they must sign in again. */
export class ReauthorizationRequired extends AppError {
  constructor(readonly githubUserId: number, message = "Sign in with GitHub again: the GitHub authorization is no longer valid") {
    super("reauthorization_required", message);
  }
}

/** Too many attempts from one client in the current window; the HTTP layer sends Retry-After. */
export class RateLimited extends AppError {
  constructor(readonly retryAfterSeconds: number, message: string) {
    super("rate_limited", `${message}; try again in ${retryAfterSeconds} s`);
  }
}
