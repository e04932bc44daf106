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
