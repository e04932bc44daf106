import type { Knex } from "knex";
import { hmac } from "../../crypto/secrets";
import { RateLimited } from "../../errors";
import { countRateLimitHit } from "../../repositories/rate-limits";

export type RateLimitName = "sign_in" | "failed_api_key";

export interface RateLimitRule {
  /** Hits allowed per window and client; the next one is refused until the window ends. */
  limit: number;
  windowMs: number;
  /** What the refusal says was too many, e.g. "sign-in attempts". */
  what: string;
}

/**
 * Fixed-window counters per client address, kept in the database so every instance (servers,
 * Lambda containers) counts against the same limit. Addresses are stored only as an HMAC with
 * SESSION_SECRET: the table does not list who called.
 */
export function createRateLimits({ db, now, secret, rules }: { db: Knex; now: () => Date; secret: string; rules: Record<RateLimitName, RateLimitRule> }) {
  return {
    /** Counts one hit for `address`; throws RateLimited when it is over the rule's limit. */
    async hit(name: RateLimitName, address: string): Promise<void> {
      const rule = rules[name];
      const at = now().getTime();
      const windowStart = Math.floor(at / rule.windowMs) * rule.windowMs;
      const windowEnd = windowStart + rule.windowMs;
      const bucket = `${name}:${hmac(secret, `rate-limit:${name}:${address}`)}`;
      const count = await countRateLimitHit(db, bucket, new Date(windowStart), new Date(windowEnd));
      if (count > rule.limit) {
        throw new RateLimited(Math.max(1, Math.ceil((windowEnd - at) / 1000)), `Too many ${rule.what} from this address`);
      }
    },
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;
