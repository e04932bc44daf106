import type { Knex } from "knex";
import { randomToken, sha256 } from "../../crypto/secrets";
import { AppError } from "../../errors";
import { ApiKey, findActiveApiKeyByHash, insertApiKey, listApiKeys, revokeApiKey, touchApiKey } from "../../repositories/api-keys";
import { findTeam } from "../../repositories/teams";

export const API_KEY_PREFIX = "opx_";
// Recording every use would make each API call a write; once a minute is plenty for "last used".
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Keys for platform servers. 256 random bits, so a fast hash is enough (nothing to brute-force);
 * only the hash is stored and the key is shown once.
 */
export function createApiKeys({ db, now }: { db: Knex; now: () => Date }) {
  return {
    /** A platform-wide key, or with `teamIds` one limited to those teams (each must exist). */
    async create(name: string, { teamIds }: { teamIds?: number[] } = {}): Promise<{ key: string; apiKey: ApiKey }> {
      const key = `${API_KEY_PREFIX}${randomToken()}`;
      const limited = teamIds && teamIds.length > 0 ? teamIds : null;
      const apiKey = await db.transaction(async (trx) => {
        for (const teamId of limited ?? []) {
          // teams.id is 32-bit: a larger id names no team (and Postgres would refuse to compare it).
          if (teamId > 2 ** 31 - 1 || !(await findTeam(trx, teamId))) throw new AppError("not_found", `No team with id ${teamId}`);
        }
        return insertApiKey(trx, { name, keyHash: sha256(key), prefix: key.slice(0, 10), teamIds: limited }, now());
      });
      return { key, apiKey };
    },
    async authenticate(key: string): Promise<ApiKey | undefined> {
      if (!key.startsWith(API_KEY_PREFIX)) return undefined;
      const apiKey = await findActiveApiKeyByHash(db, sha256(key));
      if (apiKey && (!apiKey.lastUsedAt || now().getTime() - apiKey.lastUsedAt.getTime() > TOUCH_INTERVAL_MS)) {
        await touchApiKey(db, apiKey.id, now());
      }
      return apiKey;
    },
    revoke: (id: number) => revokeApiKey(db, id, now()),
    list: () => listApiKeys(db),
  };
}

export type ApiKeys = ReturnType<typeof createApiKeys>;
