// Dates are written as ISO-8601 UTC strings: Postgres casts them to timestamptz, SQLite stores
// text that sorts chronologically. (Binding Date objects fails quietly on SQLite when the Date
// comes from another realm, as under jest: the driver writes "[object Object]".)
export function dbTime(date: Date): string;
export function dbTime(date: Date | null): string | null;
export function dbTime(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

// Drivers disagree on types: pg returns bigint as string and timestamptz as Date; sqlite3 returns
// numbers for both (dates as epoch milliseconds, since that is how it binds a Date). Rows are
// normalised here so every repository hands the same objects to services on either database.

export function toNumber(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}

export function toNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(typeof value === "string" && /^\d+$/.test(value) ? Number(value) : (value as string | number));
}

export function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

export function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "true";
}

export function parseJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value !== "string") return value as T;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}
