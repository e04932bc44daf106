// bench/scale.ts's part on GET /api/teams/:teamId/repositories: a team with 5,000 repositories over
// 20 installations (10 linked with "all", 10 with a list of every repository) among 500,000
// repositories in all, seeded after the other measurements so it changes none of their figures.
import type { Knex } from "knex";
import { isPostgres } from "../src/db/knex";
import { listTeamRepositories } from "../src/repositories/team-repositories";
import { explain, captureSql } from "./query-plans";
import { seedTable } from "./scale-seed";
import { formatMs, p50p99 } from "./stats";

const REPOSITORIES = 500_000;
const TEAM_INSTALLATIONS = 20;
const PER_INSTALLATION = 250;
export const GOAL_FIRST_PAGE_P99_MS = 10;
export const GOAL_SEARCH_P99_MS = 20;
const ms = formatMs(2);

/** Seeds, measures and prints; returns problems (a goal missed, a scan without an index). */
export async function benchTeamRepositories(
  db: Knex,
  label: string,
  sizes: { teams: number; installations: number; hot: number; samples: number },
  time: (samples: number, work: (i: number) => Promise<unknown>) => Promise<number[]>,
): Promise<string[]> {
  const problems: string[] = [];
  const teamId = sizes.teams + 1;
  // The team's installations are the last ones; the other repositories spread over the rest (not the hot ones, deleted by now).
  const first = sizes.installations - TEAM_INSTALLATIONS + 1;
  const others = first - 1 - sizes.hot;
  const mine = TEAM_INSTALLATIONS * PER_INSTALLATION;
  const installationOf = (i: number) => (i < mine ? first + Math.floor(i / PER_INSTALLATION) : sizes.hot + 1 + (i % others));
  await seedTable(db, "installation_repositories", REPOSITORIES, 400, (i) => {
    const installation = installationOf(i);
    return { installation_id: installation, repository_id: i + 1, owner: `org-${installation}`, name: `repo-${i + 1}`, full_name: `org-${installation}/repo-${i + 1}`, private: i % 2 === 0, archived: i % 10 === 0, default_branch: "main" };
  });
  const at = new Date().toISOString();
  await db("teams").insert({ id: teamId, name: "bench-repositories", created_at: at, updated_at: at });
  await seedTable(db, "team_installations", TEAM_INSTALLATIONS, 100, (i) => ({ team_id: teamId, installation_id: first + i, linked_by: null, linked_at: at, repository_scope: i % 2 ? "list" : "all" }));
  const listed = Array.from({ length: mine }, (_, i) => i).filter((i) => Math.floor(i / PER_INSTALLATION) % 2 === 1);
  await seedTable(db, "team_installation_repositories", listed.length, 400, (k) => ({ team_id: teamId, installation_id: installationOf(listed[k]), repository_id: listed[k] + 1 }));
  await db.raw("ANALYZE");

  const firstPage = () => listTeamRepositories(db, teamId, { limit: 31 });
  const search = (i: number) => listTeamRepositories(db, teamId, { q: `REPO-${1 + ((i * 37) % mine)}`, limit: 31 });
  const seen = (await listTeamRepositories(db, teamId, { limit: 10_000 })).length;
  if (seen !== mine) problems.push(`${label}: the team sees ${seen} repositories, expected ${mine}`);
  for (let i = 0; i < 50; i++) await firstPage();
  const pages = await time(sizes.samples, () => firstPage());
  const searches = await time(sizes.samples, (i) => search(i));
  const [p50, p99] = p50p99(pages);
  const [s50, s99] = p50p99(searches);
  const verdict = (p99v: number, goal: number) => `goal p99 < ${goal} ms: ${p99v < goal ? "met" : "MISSED"}`;
  console.log(`  team repositories: a team with ${mine.toLocaleString("en")} of ${REPOSITORIES.toLocaleString("en")} repositories over ${TEAM_INSTALLATIONS} installations`);
  console.log(`  ${`first page of 30, ${pages.length}`.padEnd(60)} ${ms(p50).padStart(10)} ${ms(p99).padStart(10)}   ${verdict(p99, GOAL_FIRST_PAGE_P99_MS)}`);
  console.log(`  ${`name search (q), ${searches.length}`.padEnd(60)} ${ms(s50).padStart(10)} ${ms(s99).padStart(10)}   ${verdict(s99, GOAL_SEARCH_P99_MS)}`);
  if (p99 >= GOAL_FIRST_PAGE_P99_MS) problems.push(`${label}: team repositories first page p99 ${ms(p99)}`);
  if (s99 >= GOAL_SEARCH_P99_MS) problems.push(`${label}: team repositories search p99 ${ms(s99)}`);

  console.log(`  query plans (${isPostgres(db) ? "EXPLAIN" : "EXPLAIN QUERY PLAN"}):`);
  for (const [name, work] of [
    ["team repositories, first page", firstPage],
    ["team repositories, name search", () => search(1)],
  ] as const) {
    for (const { sql, bindings } of await captureSql(db, work, /./)) {
      const { lines, scans } = await explain(db, sql, bindings);
      console.log(`  - ${name}: ${scans.length ? `NO INDEX: full scan of ${scans.join(", ")}` : "uses indexes"}`);
      console.log(`      ${sql}`);
      for (const l of lines) console.log(`        ${l}`);
      if (scans.length) problems.push(`${label}: ${name} scans ${scans.join(", ")} without an index`);
    }
  }
  return problems;
}
