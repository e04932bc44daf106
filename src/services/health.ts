import type { Knex } from "knex";

export type DatabaseHealth = "ok" | "unreachable";

/** Answers within `timeoutMs` even when the database hangs, so load balancers get a verdict. */
export async function checkDatabase(db: Knex, timeoutMs = 2000): Promise<DatabaseHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DatabaseHealth>((resolve) => {
    timer = setTimeout(() => resolve("unreachable"), timeoutMs);
  });
  try {
    return await Promise.race([db.raw("select 1").then((): DatabaseHealth => "ok"), timeout]);
  } catch {
    return "unreachable";
  } finally {
    clearTimeout(timer);
  }
}

// Node's socket errors when the server is gone or unreachable, and Postgres's SQLSTATEs for
// "not now": admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down),
// too_many_connections; class 08 is every connection_exception.
const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "57P01", "57P02", "57P03", "53300"]);

/**
 * The database did not answer (down, restarting, unreachable, its pool exhausted), as opposed to
 * a query that failed: the caller may try again shortly. pg gives a dropped connection no code,
 * only its message.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; errors?: unknown } | null | undefined;
  if (!e || typeof e !== "object") return false;
  // GitHub's errors (octokit's RequestError, whose `code` getter is deprecated) are not the database's.
  if (e.name === "HttpError") return false;
  if (e.name === "KnexTimeoutError") return true;
  if (typeof e.code === "string" && (UNAVAILABLE_CODES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code))) return true;
  // knex prefixes a failed query's message with its SQL: "ROLLBACK - Connection terminated unexpectedly".
  // "timeout expired": pg's connectionTimeoutMillis passed (a server that accepts and says nothing).
  if (typeof e.message === "string" && /(^| - )(Connection terminated|Client has encountered a connection error|Client was closed|timeout expired$)/.test(e.message)) return true;
  // Node's AggregateError for a host with several addresses (localhost: ::1 and 127.0.0.1).
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isDatabaseUnavailable);
}
