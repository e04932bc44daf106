import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { LOG_DIR_ENV } from "./log-capture";
import { ADMIN_POSTGRES_URL, POSTGRES_AVAILABLE_ENV } from "./postgres-url";
import { RUN_ALONE_LOCK_ENV } from "./run-alone";

/**
 * Decides once whether the Postgres suite runs. In CI (CI=true) an unreachable Postgres is a
 * failure, not a skip; on a laptop without it only that suite is skipped, and we say so.
 */
export default async function globalSetup(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), "octoplex-test-logs-"));
  process.env[LOG_DIR_ENV] = logDir;
  // Beside the log directory, not in it (the teardown scans every file there); gone once released.
  process.env[RUN_ALONE_LOCK_ENV] = `${logDir}.run-alone.lock`;

  const client = new Client({ connectionString: ADMIN_POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("select 1");
    process.env[POSTGRES_AVAILABLE_ENV] = "1";
  } catch (error) {
    const reason = `Postgres at ${ADMIN_POSTGRES_URL} is unreachable (${(error as Error).message})`;
    if (process.env.CI === "true") throw new Error(`${reason}; CI=true requires the Postgres suite to run`);
    process.env[POSTGRES_AVAILABLE_ENV] = "0";
    console.warn(`\n${reason}: SKIPPING the Postgres suite; the SQLite suite still runs.\n`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
