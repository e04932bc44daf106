/** The server every developer machine and CI has; TEST_DATABASE_URL points elsewhere. */
export const ADMIN_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Set by the global setup: "1" when Postgres answered, so its suite runs. */
export const POSTGRES_AVAILABLE_ENV = "OCTOPLEX_TEST_POSTGRES";
