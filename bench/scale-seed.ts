// The seeding of bench/scale.ts: teams, installations, links and a history of delivered platform
// events, in batched multi-row inserts, with progress on stderr.
import { performance } from "node:perf_hooks";
import type { Knex } from "knex";
import { isPostgres } from "../src/db/knex";

export interface ScaleSizes {
  teams: number;
  installations: number;
  links: number;
  /** Installations 1..hot each linked to hotTeams teams; the other links spread evenly. */
  hot: number;
  hotTeams: number;
  /** Delivered platform events. */
  history: number;
}

function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${line.padEnd(70)}`);
  else process.stderr.write(`${line}\n`);
}

/** Inserts `count` rows made by `row(i)` in `batch`-row statements, `perTransaction` statements per transaction. */
export async function seedTable(db: Knex, table: string, count: number, batch: number, row: (i: number) => Record<string, unknown>): Promise<void> {
  const perTransaction = 50;
  const started = performance.now();
  let reported = 0;
  for (let start = 0; start < count; start += batch * perTransaction) {
    await db.transaction(async (trx) => {
      for (let b = start; b < Math.min(count, start + batch * perTransaction); b += batch) {
        const rows: Record<string, unknown>[] = [];
        for (let i = b; i < Math.min(count, b + batch); i++) rows.push(row(i));
        // One multi-row VALUES statement (knex writes SQLite's as a compound SELECT, capped at 500 terms).
        const columns = Object.keys(rows[0]);
        const tuple = `(${columns.map(() => "?").join(", ")})`;
        await trx.raw(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${rows.map(() => tuple).join(", ")}`, rows.flatMap((r) => columns.map((c) => r[c] as Knex.Value)));
      }
    });
    const done = Math.min(count, start + batch * perTransaction);
    if (done - reported >= count / 10 || done === count) {
      reported = done;
      progress(`seeding ${table}: ${done.toLocaleString("en")} / ${count.toLocaleString("en")} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
  }
  if (process.stderr.isTTY) process.stderr.write("\n");
}

/** The (team, installation) of link `i`: the hot installations first, then every team in turn. */
function linkAt(i: number, { teams: TEAMS, installations: INSTALLATIONS, hot: HOT, hotTeams: HOT_TEAMS }: ScaleSizes): [number, number] {
  const hotLinks = HOT * HOT_TEAMS;
  if (i < hotLinks) {
    const installation = Math.floor(i / HOT_TEAMS) + 1;
    return [((installation * 10_007 + (i % HOT_TEAMS)) % TEAMS) + 1, installation];
  }
  const j = i - hotLinks;
  const team = (j % TEAMS) + 1;
  const round = Math.floor(j / TEAMS);
  const others = INSTALLATIONS - HOT;
  // Distinct installations per team while round * 1,009 stays below `others` (it does for < 19 rounds at 20,000).
  return [team, HOT + 1 + ((team * 13 + round * 1_009) % others)];
}

/** Seeds a migrated database with `sizes` (see bench/scale.ts), then analyzes it. */
export async function seedScale(db: Knex, sizes: ScaleSizes): Promise<void> {
  const { teams: TEAMS, installations: INSTALLATIONS, links: LINKS, hot: HOT, history: HISTORY } = sizes;
  const at = new Date("2026-11-01T10:00:00Z").toISOString();
  await seedTable(db, "teams", TEAMS, 1000, (i) => ({ id: i + 1, name: `team-${i + 1}`, created_at: at, updated_at: at }));
  await seedTable(db, "installations", INSTALLATIONS, 500, (i) => ({
    id: i + 1,
    account_id: 1_000_000 + i,
    account_login: `org-${i + 1}`,
    account_type: "Organization",
    account_avatar_url: null,
    target_type: "Organization",
    repository_selection: "all",
    permissions: '{"administration":"write","contents":"write","metadata":"read"}',
    events: "[]",
    github_updated_at: at,
    created_at: at,
    updated_at: at,
  }));
  await seedTable(db, "team_installations", LINKS, 1000, (i) => {
    const [team, installation] = linkAt(i, sizes);
    return { team_id: team, installation_id: installation, linked_by: null, linked_at: new Date(Date.parse(at) + (i % 86_400) * 1000).toISOString() };
  });
  // A platform's history of delivered events, which the dispatcher must not wade through.
  await seedTable(db, "outbox_events", HISTORY, 500, (i) => {
    const team = (i % TEAMS) + 1;
    return {
      message_id: `msg_${i.toString(16).padStart(32, "0")}`,
      type: "team.installation.linked",
      ordering_key: `team:${team}`,
      team_id: team,
      payload: `{"data":{"teamId":${team},"installationId":${HOT + 1 + (i % (INSTALLATIONS - HOT))}}}`,
      status: "delivered",
      attempts: 1,
      next_attempt_at: at,
      give_up_at: at,
      created_at: at,
      delivered_at: at,
    };
  });
  if (isPostgres(db)) {
    // Explicit ids: move the sequence past them, as a real history would have.
    await db.raw(`SELECT setval(pg_get_serial_sequence('teams', 'id'), ?)`, [TEAMS]);
    await db.raw("ANALYZE");
    // The seeding wrote ~0.5 GB of WAL: checkpoint it now rather than in the middle of a measurement.
    await db.raw("CHECKPOINT");
  } else {
    await db.raw("ANALYZE");
  }
}
