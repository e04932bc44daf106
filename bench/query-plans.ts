// What bench/scale.ts reports of the SQL behind a call: the statements it sends, the slowest of
// them, and each one's plan, with the tables it reads without an index.
import { performance } from "node:perf_hooks";
import type { Knex } from "knex";
import { isPostgres } from "../src/db/knex";
import { formatMs, median } from "./stats";

const ms = formatMs(2);

/** The SQL a repository call sends (its first SELECT / DELETE), captured from knex's query event. */
export interface Captured {
  sql: string;
  bindings: unknown[];
  /** From knex's query event to its response: the statement's round trip. */
  ms: number;
}

export async function captureSql(db: Knex, work: () => Promise<unknown>, match: RegExp): Promise<Captured[]> {
  const seen: Captured[] = [];
  const started = new Map<string, { at: number; captured?: Captured }>();
  const onQuery = (q: { sql: string; bindings?: unknown[]; __knexQueryUid: string }) => {
    const captured = match.test(q.sql) ? { sql: q.sql, bindings: q.bindings ?? [], ms: NaN } : undefined;
    if (captured) seen.push(captured);
    started.set(q.__knexQueryUid, { at: performance.now(), captured });
  };
  const onResponse = (_response: unknown, q: { __knexQueryUid: string }) => {
    const start = started.get(q.__knexQueryUid);
    if (start?.captured) start.captured.ms = performance.now() - start.at;
  };
  db.on("query", onQuery).on("query-response", onResponse);
  try {
    await work();
  } finally {
    db.off("query", onQuery).off("query-response", onResponse);
  }
  return seen;
}

/** The statements that took longest, each with its median round trip over the runs (the same statements in the same order each run). */
export function slowestStatements(runs: Captured[][], count: number): string[] {
  const medians = runs[0].map((first, i) => ({ sql: first.sql, ms: median(runs.map((run) => run[i]?.ms ?? NaN)) }));
  return medians
    .filter((s) => !Number.isNaN(s.ms)) // BEGIN and COMMIT have no response event
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count)
    .map((s) => `${ms(s.ms).padStart(10)}  ${s.sql.replace(/\s+/g, " ").slice(0, 110)}…`);
}

/** The plan's lines, and the tables it reads without an index (full scans). */
export async function explain(db: Knex, sql: string, bindings: unknown[]): Promise<{ lines: string[]; scans: string[] }> {
  if (isPostgres(db)) {
    // knex's query event has the driver's $n placeholders; raw() wants ?, in the same order.
    const result = await db.raw(`EXPLAIN ${sql.replace(/\$\d+/g, "?")}`, bindings as Knex.RawBinding[]);
    const lines = (result.rows as Array<{ "QUERY PLAN": string }>).map((r) => r["QUERY PLAN"]);
    const scans = lines.flatMap((l) => /Seq Scan on (\w+)/.exec(l)?.[1] ?? []);
    return { lines, scans };
  }
  const rows = (await db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as Knex.RawBinding[])) as Array<{ detail: string }>;
  const lines = rows.map((r) => r.detail);
  // "SEARCH t USING INDEX …" reaches rows through an index; "SCAN t" (even "USING COVERING INDEX")
  // reads all of it, unless the index is partial: then it reads the rows of its predicate only.
  const partial = new Set(((await db.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% where %'")) as Array<{ name: string }>).map((r) => r.name));
  const scans = lines.flatMap((l) => {
    const scan = /^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?/.exec(l);
    return scan && !partial.has(scan[2]) ? [scan[1]] : [];
  });
  return { lines, scans };
}
