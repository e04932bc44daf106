import type { Knex } from "knex";
import { hmac, randomToken, safeEqual } from "../../crypto/secrets";
import { deleteSession, findActiveSession, insertSession } from "../../repositories/sessions";

export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Opaque session ids: the browser holds 256 random bits; the database holds an HMAC of them keyed
 * by SESSION_SECRET, so neither a database dump nor a cookie minted under another secret opens one.
 */
export function createSessions({ db, secret, now }: { db: Knex; secret: string; now: () => Date }) {
  const hashOf = (id: string) => hmac(secret, `session:${id}`);
  return {
    async create(githubUserId: number, trx: Knex | Knex.Transaction = db): Promise<{ id: string; expiresAt: Date }> {
      const id = randomToken();
      const createdAt = now();
      const expiresAt = new Date(createdAt.getTime() + SESSION_TTL_MS);
      await insertSession(trx, { idHash: hashOf(id), githubUserId, createdAt, expiresAt });
      return { id, expiresAt };
    },
    async resolve(id: string): Promise<number | undefined> {
      if (!/^[A-Za-z0-9_-]{20,100}$/.test(id)) return undefined;
      return (await findActiveSession(db, hashOf(id), now()))?.githubUserId;
    },
    /** The CSRF token of a session's form posts: derived, so nothing more is stored. */
    csrfToken(id: string): string {
      return hmac(secret, `csrf:${id}`);
    },
    verifyCsrf(id: string, token: unknown): boolean {
      return typeof token === "string" && safeEqual(token, hmac(secret, `csrf:${id}`));
    },
    async end(id: string): Promise<void> {
      await deleteSession(db, hashOf(id));
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
