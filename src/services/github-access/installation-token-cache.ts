import type { Knex } from "knex";
import type { TokenCipher } from "../../crypto/token-cipher";
import {
  acquireTokenLease,
  deleteInstallationTokens,
  findInstallationToken,
  releaseTokenLease,
  saveInstallationToken,
} from "../../repositories/installation-tokens";

/** The cache interface @octokit/auth-app calls: get before minting, set after. */
export interface TokenCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /**
   * The mint that get() cleared this process for failed (auth-app then never calls set): let go
   * of the lease now, or every process would wait for a token that is not coming.
   */
  mintFailed(installationId: number): Promise<void>;
  /** GitHub refused a cached token (revoked, or from before a suspension): drop it everywhere. */
  forget(installationId: number): Promise<void>;
}

export interface InstallationTokenCacheOptions {
  db: Knex;
  cipher: TokenCipher;
  now: () => Date;
  /** How long one process may take to mint before another may try. */
  leaseMs?: number;
  /** How long a process waits for another's mint before minting itself. */
  waitMs?: number;
  pollMs?: number;
  memoryEntries?: number;
}

/** Tokens are dropped this long before GitHub expires them, so no caller gets one about to die. */
export const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Installation tokens shared through the database: Probot keeps them per process, so every
 * Lambda instance or replica would mint its own. An in-memory map stays in front; the database
 * holds them encrypted; a lease makes processes that miss at the same moment wait for the one
 * minting instead of all minting.
 */
export function createInstallationTokenCache(options: InstallationTokenCacheOptions): TokenCache {
  const { db, cipher, now, leaseMs = 15_000, waitMs = 10_000, pollMs = 50, memoryEntries = 1000 } = options;
  const memory = new Map<string, { value: string; freshUntil: number }>();
  // Keys this process holds the mint lease for: get() returned undefined, set() has not come yet.
  const minting = new Set<string>();
  // Callers in this process waiting for this process's own mint: told by set(), not by polling.
  const waiters = new Map<string, Array<(value: string | undefined) => void>>();

  function waitForOwnMint(key: string, deadline: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
      const list = waiters.get(key) ?? [];
      list.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
      waiters.set(key, list);
    });
  }

  function wake(key: string, value: string | undefined) {
    for (const resolve of waiters.get(key) ?? []) resolve(value);
    waiters.delete(key);
  }
  const context = (key: string) => `installation_tokens:${key}`;

  function remember(key: string, value: string, freshUntil: number) {
    memory.delete(key);
    memory.set(key, { value, freshUntil });
    // Map keeps insertion order: the first key is the least recently stored.
    if (memory.size > memoryEntries) memory.delete(memory.keys().next().value!);
  }

  return {
    async get(key) {
      const cached = memory.get(key);
      if (cached && cached.freshUntil > now().getTime()) return cached.value;
      memory.delete(key);
      const stored = async () => {
        const encrypted = await findInstallationToken(db, key, new Date(now().getTime() + EXPIRY_MARGIN_MS));
        if (!encrypted) return undefined;
        const value = cipher.decrypt(encrypted, context(key));
        remember(key, value, expiryOf(value) - EXPIRY_MARGIN_MS);
        return value;
      };
      const deadline = Date.now() + waitMs;
      while (Date.now() < deadline) {
        if (minting.has(key)) {
          const minted = await waitForOwnMint(key, deadline);
          if (minted) return minted;
          continue;
        }
        const value = await stored();
        if (value) return value;
        if (await acquireTokenLease(db, key, new Date(now().getTime() + leaseMs), now())) {
          // The previous holder may have stored its token and let go between our look and our lease.
          const minted = await stored();
          if (minted) await releaseTokenLease(db, key);
          else minting.add(key);
          return minted;
        }
        await sleep(pollMs);
      }
      // The minting process is stuck: mint here rather than fail the caller.
      return undefined;
    },

    async set(key, value) {
      const expiresAt = expiryOf(value);
      await saveInstallationToken(
        db,
        { key, installationId: Number(key.split("|")[0]), valueEncrypted: cipher.encrypt(value, context(key)), expiresAt: new Date(expiresAt - EXPIRY_MARGIN_MS) },
        now(),
      );
      remember(key, value, expiresAt - EXPIRY_MARGIN_MS);
      minting.delete(key);
      wake(key, value);
      await releaseTokenLease(db, key);
    },

    async forget(installationId) {
      for (const key of [...memory.keys()].filter((k) => k.split("|")[0] === String(installationId))) memory.delete(key);
      await deleteInstallationTokens(db, installationId);
    },

    async mintFailed(installationId) {
      // auth-app's key is the installation id, then "|"-separated repositories and permissions when asked for.
      for (const key of [...minting].filter((k) => k.split("|")[0] === String(installationId))) {
        minting.delete(key);
        // The waiting callers try for the lease themselves.
        wake(key, undefined);
        await releaseTokenLease(db, key);
      }
    },
  };
}

/** auth-app's value is `token|createdAt|expiresAt|…`. */
function expiryOf(value: string): number {
  const expiresAt = Date.parse(value.split("|")[2] ?? "");
  return Number.isNaN(expiresAt) ? Date.now() + 50 * 60 * 1000 : expiresAt;
}
