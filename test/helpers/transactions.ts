import type { Knex } from "knex";

/** Counts the knex transactions a piece of work opens on `db`: a planned batch (one raw round trip) opens none. */
export async function countTransactions(db: Knex, work: () => Promise<unknown>): Promise<number> {
  let begun = 0;
  const onQuery = (q: { sql: string }) => void (/^begin/i.test(q.sql) && begun++);
  db.on("query", onQuery);
  try {
    await work();
  } finally {
    db.off("query", onQuery);
  }
  return begun;
}
