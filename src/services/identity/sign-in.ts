import type { Knex } from "knex";
import type { Logger } from "pino";
import { safeEqual } from "../../crypto/secrets";
import { AppError } from "../../errors";
import type { GithubOAuth } from "../../github/oauth";
import { OAuthRejected } from "../../github/oauth-rejected";
import { upsertGithubUser } from "../../repositories/github-users";
import type { OAuthStates } from "./oauth-states";
import type { RateLimits } from "./rate-limits";
import { isSafeReturnTo } from "./return-to";
import type { Sessions } from "./sessions";
import type { UserTokens } from "./user-tokens";

export interface SignInDeps {
  db: Knex;
  oauth: GithubOAuth;
  states: OAuthStates;
  rateLimits: RateLimits;
  sessions: Sessions;
  userTokens: UserTokens;
  now: () => Date;
  /** Public origin: GitHub sends the browser back to `${baseUrl}/auth/callback`. */
  baseUrl: string;
  log: Logger;
}

export interface SignedIn {
  sessionId: string;
  expiresAt: Date;
  userId: number;
}

/** Sign in with GitHub: the web flow, with a single-use state, ending in a session. */
export function createSignIn({ db, oauth, states, rateLimits, sessions, userTokens, now, baseUrl, log }: SignInDeps) {
  const redirectUrl = `${baseUrl}/auth/callback`;

  async function exchange(code: string): Promise<SignedIn> {
    let tokens;
    try {
      tokens = await oauth.exchangeCode(code, redirectUrl);
    } catch (error) {
      if (error instanceof OAuthRejected) {
        throw new AppError("invalid_input", `GitHub refused the sign-in code (${error.reason}); start again from /auth/login`);
      }
      throw error;
    }
    const identity = await oauth.getIdentity(tokens.token);
    const session = await db.transaction(async (trx) => {
      await upsertGithubUser(trx, identity, now());
      await userTokens.store(identity.id, tokens, trx);
      return sessions.create(identity.id, trx);
    });
    log.info({ githubUserId: identity.id, login: identity.login }, "signed in");
    return { sessionId: session.id, expiresAt: session.expiresAt, userId: identity.id };
  }

  return {
    /**
     * The authorize URL, and the state the browser must also hold in a cookie (see complete).
     * Each start stores a state for someone not yet known: counted per `client` (address) first.
     */
    async start(returnTo: string | undefined = "/", client: string): Promise<{ url: string; state: string }> {
      if (!isSafeReturnTo(returnTo)) {
        throw new AppError("invalid_input", "return_to must be a path on this site, such as /teams/7/connect");
      }
      await rateLimits.hit("sign_in", client);
      const state = await states.issue("login", { returnTo });
      return { url: oauth.authorizeUrl(state, redirectUrl), state };
    },

    /** Checks the state, trades the code, and stores user, tokens and session in one transaction. */
    async complete(code: string, state: string, browserState: string | undefined): Promise<SignedIn & { returnTo: string }> {
      // Login CSRF: a callback carrying someone else's code and state must not sign this browser
      // in as them. Only the browser that started the sign-in holds the state in its cookie. That
      // is checked first, so a callback from any other browser spends nothing.
      if (!browserState || !safeEqual(browserState, state)) {
        throw new AppError("invalid_input", "This sign-in was started in another browser; start again from /auth/login");
      }
      const issued = await states.consume("login", state);
      if (!issued) {
        throw new AppError("invalid_input", "The sign-in link is invalid, expired or already used; start again from /auth/login");
      }
      return { ...(await exchange(code)), returnTo: issued.returnTo };
    },
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
