import { Db } from "../db/knex";
import { mapRow, StoredRepository } from "./installation-repositories";
import { escapeLike } from "./team-repositories";

export interface InstallationRepositorySearch {
  /** Case-insensitive substring of the full name, taken literally (no wildcards). */
  q?: string;
  limit: number;
}

export interface InstallationRepositoryMatches {
  /** The first `limit` matches, by full name. */
  repositories: StoredRepository[];
  /** How many repositories match the search (all of the installation's without one). */
  matching: number;
  /** How many repositories the installation has. */
  total: number;
}

/**
 * One installation's repositories by full name, for a person to choose from: an installation may
 * have thousands, so a page shows the first few and says how many more a search would reach.
 */
export async function searchInstallationRepositories(db: Db, installationId: number, search: InstallationRepositorySearch): Promise<InstallationRepositoryMatches> {
  const ofInstallation = () => db("installation_repositories").where({ installation_id: installationId });
  const matchingRows = () => {
    const query = ofInstallation();
    if (search.q) query.whereRaw("lower(full_name) like ? escape '\\'", [`%${escapeLike(search.q.toLowerCase())}%`]);
    return query;
  };
  const count = async (query: ReturnType<typeof ofInstallation>) => Number((await query.count({ n: "*" }).first())?.n ?? 0);
  const rows = await matchingRows().orderBy([{ column: "full_name" }, { column: "repository_id" }]).limit(search.limit);
  const matching = await count(matchingRows());
  const total = search.q ? await count(ofInstallation()) : matching;
  return { repositories: rows.map(mapRow), matching, total };
}
