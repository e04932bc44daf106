import type { Knex } from "knex";
import type { TokenCipher } from "../../crypto/token-cipher";
import { countUserTokens, listUserTokenKeyIds, listUserTokensNotUnderKey, replaceUserToken } from "../../repositories/user-tokens";
import { accessContext, refreshContext } from "./user-tokens";

export interface RotationReport {
  keyId: string;
  rotated: number;
  alreadyCurrent: number;
  /** Rows changed by a refresh or sign-in while rotating: written with the current key anyway. */
  skipped: number;
}

const BATCH = 100;

/**
 * Re-encrypts every stored token with the first key of TOKEN_ENCRYPTION_KEYS, in batches with a
 * compare-and-swap per row. Resumable: an interrupted run leaves rows under either key, all
 * readable, and the next run picks up the rows not yet under the current key.
 */
export function createKeyRotation({ db, cipher }: { db: Knex; cipher: TokenCipher }) {
  return async function rotate(onProgress?: (done: number, total: number) => void): Promise<RotationReport> {
    const keyId = cipher.currentKeyId;
    // Refuse before writing anything when some rows are under a key that is no longer configured.
    const unknown = (await listUserTokenKeyIds(db)).filter((id) => !cipher.knows(id));
    if (unknown.length > 0) {
      throw new Error(
        `stored tokens are encrypted with key(s) ${unknown.map((k) => `"${k}"`).join(", ")}, which TOKEN_ENCRYPTION_KEYS no longer lists; ` +
          "keep the old key after the new one (new,old) until rotate-keys has run",
      );
    }
    const alreadyCurrent = await countUserTokens(db, { keyId });
    const total = await countUserTokens(db, { notKeyId: keyId });
    let rotated = 0;
    let skipped = 0;
    let after = 0;
    onProgress?.(0, total);
    for (;;) {
      const batch = await listUserTokensNotUnderKey(db, keyId, BATCH, after);
      if (batch.length === 0) break;
      for (const row of batch) {
        const id = row.githubUserId;
        const reencrypt = (value: string, context: string) => cipher.encrypt(cipher.decrypt(value, context), context);
        const written = await replaceUserToken(
          db,
          {
            ...row,
            keyId,
            accessTokenEncrypted: reencrypt(row.accessTokenEncrypted, accessContext(id)),
            refreshTokenEncrypted: row.refreshTokenEncrypted && reencrypt(row.refreshTokenEncrypted, refreshContext(id)),
          },
          row.version,
          new Date(),
        );
        if (written) rotated++;
        else skipped++;
        after = id;
        onProgress?.(rotated + skipped, total);
      }
    }
    return { keyId, rotated, alreadyCurrent, skipped };
  };
}
