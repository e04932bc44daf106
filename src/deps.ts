import type { Knex } from "knex";
import type { Logger } from "pino";
import type { Probot, ProbotOctokit } from "probot";
import type { Config } from "./config";
import { createTokenCipher, TokenCipher } from "./crypto/token-cipher";
import { createKnex, KnexOptions } from "./db/knex";
import { listAppInstallations } from "./github/app-installations";
import { listReachableRepositories } from "./github/installation-repositories";
import { withClockSkewRetry } from "./github/clock-skew";
import type { GithubOAuth } from "./github/oauth";
import { withUserRateLimitPolicy } from "./github/rate-limit";
import { GITHUB_REQUEST_TIMEOUT_MS, withRequestTimeout } from "./github/request-timeout";
import { withoutNestedMintRetry } from "./github/without-nested-mint-retry";
import { createLogger } from "./logger";
import { createApiKeys } from "./services/identity/api-keys";
import { createAuditTrail } from "./services/teams/audit-trail";
import { createTeamRepositories } from "./services/teams/team-repositories";
import { createFileCommitter } from "./services/github-access/commit-files";
import { createEventDispatcher } from "./services/events/event-dispatcher";
import { createRedeliver } from "./services/events/redeliver";
import { createRepositoryCreator } from "./services/github-access/create-repository";
import { createDeliveryLedger } from "./services/events/delivery-ledger";
import { createInstallationEvents } from "./services/installations/installation-events";
import { createInstallationTokenCache, TokenCache } from "./services/github-access/installation-token-cache";
import { createScopedTokens } from "./services/github-access/scoped-tokens";
import { createKeyRotation } from "./services/identity/key-rotation";
import { createGithubAccess } from "./services/github-access/github-access";
import { createHousekeeping } from "./services/housekeeping";
import { createLinks } from "./services/teams/links";
import { createMarketplaceEvents } from "./services/installations/marketplace-events";
import { describeUser } from "./services/identity/me";
import { createOAuthStates } from "./services/identity/oauth-states";
import { createEventRecorder, EVENT_RETRY_FOR_MS, EventRecorder, noEvents } from "./services/events/platform-events";
import { createRateLimits } from "./services/identity/rate-limits";
import { createReconcileService } from "./services/installations/reconcile";
import { createRepositoryEvents } from "./services/installations/repository-events";
import { createTeamEvents } from "./services/events/team-events";
import { createSessions } from "./services/identity/sessions";
import { createSetup } from "./services/teams/setup";
import { createSignIn } from "./services/identity/sign-in";
import { createSubscriptions } from "./services/teams/subscriptions";
import { createTeams } from "./services/teams/teams";
import { createUserTokens } from "./services/identity/user-tokens";

export interface DepsOverrides {
  log?: Logger;
  now?: () => Date;
  /** Tests pass an Octokit with retries and throttling off. */
  Octokit?: typeof ProbotOctokit;
  /** Under `probot run`, Probot builds the instance and hands it to the app function. */
  probot?: Probot;
  knex?: KnexOptions;
  /** Tests and the refresh benchmark point OAuth at nock or a fake GitHub. */
  oauth?: GithubOAuth;
  /** How long one GitHub API call may take (default GITHUB_REQUEST_TIMEOUT_MS); the OAuth calls keep their own. */
  githubTimeoutMs?: number;
}

export interface Deps {
  config: Config;
  db: Knex;
  log: Logger;
  now: () => Date;
  /** Present when the config has the app's id and key (not for `octoplex migrate`). */
  probot?: Probot;
  services: ReturnType<typeof createServices>;
  close(): Promise<void>;
}

export type Services = Deps["services"];
export type AuthServices = NonNullable<Services["auth"]>;

/** The composition root: the one place that constructs things and decides who gets what. */
export function createDeps(config: Config, overrides: DepsOverrides = {}): Deps {
  const log = overrides.log ?? createLogger(config);
  const now = overrides.now ?? (() => new Date());
  const knexLog = log.child({ name: "knex" });
  const db = createKnex(config.database, {
    log: { warn: (m: unknown) => knexLog.warn(String(m)), error: (m: unknown) => knexLog.error(String(m)), deprecate: (m: unknown) => knexLog.warn(String(m)), debug: () => undefined },
    ...overrides.knex,
  });
  const cipher = config.tokenEncryptionKeys ? createTokenCipher(config.tokenEncryptionKeys) : undefined;
  const tokenCache = cipher ? createInstallationTokenCache({ db, cipher, now }) : undefined;
  // Probot and Octokit take about a second to load: built on first use, so a process that never
  // calls GitHub (`octoplex teams list`) never loads them.
  const Octokit = once(() =>
    withRequestTimeout(overrides.Octokit ?? loadProbot().ProbotOctokit, overrides.githubTimeoutMs ?? GITHUB_REQUEST_TIMEOUT_MS),
  );
  const probot =
    overrides.probot ??
    (config.appId && config.privateKey
      ? createProbot(config, log, withTokenCache(withClockSkewRetry(withoutNestedMintRetry(Octokit())), tokenCache))
      : undefined);
  // User-token calls are built from the class directly, not by Probot: they get their own rate-limit policy.
  const UserOctokit = lazyClass(once(() => withUserRateLimitPolicy(Octokit())));
  const services = createServices({ config, db, now, log, probot, Octokit: UserOctokit, cipher, tokenCache, oauth: overrides.oauth });
  return { config, db, log, now, probot, services, close: () => db.destroy() };
}

/**
 * Probot builds its installation-token cache itself (in memory, per process); the function form
 * of defaults runs last and swaps in the shared one (STACK.md pitfall 13).
 */
function withTokenCache(Octokit: typeof ProbotOctokit, cache: TokenCache | undefined): typeof ProbotOctokit {
  if (!cache) return Octokit;
  // auth-app mints through the Octokit's own request hooks: a mint that fails (after any retries) lets go of the lease.
  const releasing = Octokit.plugin((octokit: { hook: ProbotOctokit["hook"] }) => {
    octokit.hook.error("request", async (error, options) => {
      const minted = /\/app\/installations\/(?:\{installation_id\}|(\d+))\/access_tokens$/.exec(String(options.url));
      const installationId = Number(minted?.[1] ?? (options as { installation_id?: unknown }).installation_id);
      if (options.method === "POST" && minted && installationId) await cache.mintFailed(installationId);
      throw error;
    });
  });
  // A token asked for directly (octokit.auth({ type: "installation", repositoryIds, … }), scoped-tokens.ts)
  // is minted with auth-app's own request, which Probot leaves on github.com and outside these hooks.
  type Request = { defaults(options: object): Request };
  const directMint = (baseUrl: string | undefined, base: Request) =>
    base.defaults({
      ...(baseUrl ? { baseUrl } : {}),
      request: {
        hook: async (send: (options: object) => Promise<unknown>, options: { installation_id?: number }) => {
          try {
            return await send(options);
          } catch (error) {
            if (options.installation_id) await cache.mintFailed(Number(options.installation_id));
            throw error;
          }
        },
      },
    });
  return releasing.defaults((options: { auth?: Record<string, unknown>; baseUrl?: string }) =>
    options.auth && "appId" in options.auth
      ? { ...options, auth: { ...options.auth, cache, ...(options.auth.request ? { request: directMint(options.baseUrl, options.auth.request as Request) } : {}) } }
      : options,
  ) as typeof ProbotOctokit;
}

const loadProbot = () => require("probot") as typeof import("probot");

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/** Stands for the class `load` returns, loading it when first constructed or read from. */
function lazyClass<C extends typeof ProbotOctokit>(load: () => C): C {
  return new Proxy(function lazy() {} as unknown as C, {
    // newTarget is this proxy (or a subclass of it): its prototype, read through `get`, is the class's.
    construct: (_target, args, newTarget) => Reflect.construct(load(), args, newTarget),
    get: (_target, key) => Reflect.get(load(), key),
  });
}

function createProbot(config: Config, log: Logger, Octokit?: typeof ProbotOctokit): Probot | undefined {
  if (!config.appId || !config.privateKey) return undefined;
  const { Probot } = loadProbot();
  return new Probot({
    appId: config.appId,
    privateKey: config.privateKey,
    secret: config.webhookSecret,
    baseUrl: config.githubBaseUrl,
    log: log.child({ name: "probot" }),
    ...(Octokit ? { Octokit } : {}),
  });
}

interface ServiceInputs {
  config: Config;
  db: Knex;
  now: () => Date;
  log: Logger;
  probot?: Probot;
  /** For calls with a user's token; the app and its installations go through `probot`. */
  Octokit: typeof ProbotOctokit;
  cipher?: TokenCipher;
  tokenCache?: TokenCache;
  oauth?: GithubOAuth;
}

function createServices(inputs: ServiceInputs) {
  const { db, now, probot, cipher } = inputs;
  const ledger = createDeliveryLedger(db, now);
  const events = inputs.config.platformWebhook ? createEventRecorder({ now, retryForMs: EVENT_RETRY_FOR_MS }) : noEvents;
  // Without a platform to send to, GitHub's events are not routed (as Octoplex's own are not recorded).
  const teamEvents = createTeamEvents({ ledger, now, retryForMs: inputs.config.platformWebhook ? EVENT_RETRY_FOR_MS : undefined });
  return {
    events,
    dispatcher: inputs.config.platformWebhook
      ? createEventDispatcher({ db, now, log: inputs.log.child({ name: "events" }), ...inputs.config.platformWebhook })
      : undefined,
    redeliver: createRedeliver({ db, now, github: createGithubAccess({ Octokit: inputs.Octokit, baseUrl: inputs.config.githubBaseUrl, probot }) }),
    audit: createAuditTrail(db),
    teamRepositories: createTeamRepositories(db),
    installationEvents: createInstallationEvents({ ledger, now, events }),
    marketplaceEvents: createMarketplaceEvents({ ledger, now }),
    teamEvents,
    repositoryEvents: createRepositoryEvents({ ledger, now, teamEvents }),
    apiKeys: createApiKeys({ db, now }),
    housekeeping: createHousekeeping({ db, now, eventRetentionMs: inputs.config.eventRetentionMs }),
    keyRotation: cipher ? createKeyRotation({ db, cipher }) : undefined,
    reconcile: createReconcileService({
      db,
      now,
      events,
      listGithubInstallations: async (onPage) => {
        if (!probot) throw new Error("reconcile needs APP_ID and the private key");
        return listAppInstallations(await probot.auth(), onPage);
      },
      listGithubRepositories: (installationId) =>
        createGithubAccess({ Octokit: inputs.Octokit, baseUrl: inputs.config.githubBaseUrl, probot }).asInstallation(
          installationId,
          listReachableRepositories,
        ),
    }),
    /** Sign-in and user tokens: present when the config has everything they need (server scope). */
    auth: cipher ? createAuthServices(inputs, cipher, events) : undefined,
  };
}

function createAuthServices(inputs: ServiceInputs, cipher: TokenCipher, events: EventRecorder) {
  const { config, db, now, log, Octokit } = inputs;
  const { githubClientId, githubClientSecret, sessionSecret, baseUrl } = config;
  if (!githubClientId || !githubClientSecret || !sessionSecret || !baseUrl) return undefined;
  const { createGithubOAuth } = require("./github/oauth") as typeof import("./github/oauth");
  const oauth =
    inputs.oauth ??
    createGithubOAuth({ clientId: githubClientId, clientSecret: githubClientSecret, baseUrl: config.githubBaseUrl, Octokit });
  const sessions = createSessions({ db, secret: sessionSecret, now });
  const states = createOAuthStates({ db, secret: sessionSecret, now });
  const userTokens = createUserTokens({ db, cipher, oauth, now, log: log.child({ name: "user-tokens" }), events });
  const github = createGithubAccess({
    userTokens,
    Octokit,
    baseUrl: config.githubBaseUrl,
    probot: inputs.probot,
    forgetInstallationTokens: inputs.tokenCache && ((id) => inputs.tokenCache!.forget(id)),
  });
  const teams = createTeams({ db, now });
  const rateLimits = createRateLimits({
    db,
    now,
    secret: sessionSecret,
    rules: {
      sign_in: { limit: config.rateLimits.signInsPerMinute, windowMs: 60_000, what: "sign-in attempts" },
      failed_api_key: { limit: config.rateLimits.failedApiKeysPerMinute, windowMs: 60_000, what: "requests with an unknown or revoked API key" },
    },
  });
  const links = createLinks({ db, now, teams, github, states, webBaseUrl: config.githubWebBaseUrl, appSlug: config.appSlug, events });
  return {
    teams,
    links,
    subscriptions: createSubscriptions({ db, now, teams }),
    setup: createSetup({ db, now, links, teams, states, github }),
    createRepository: createRepositoryCreator({ db, teams, github, now, events }),
    commitFiles: createFileCommitter({ db, teams, github }),
    issueToken: createScopedTokens({ db, now, teams, github }),
    sessions,
    states,
    userTokens,
    signIn: createSignIn({ db, oauth, states, rateLimits, sessions, userTokens, now, baseUrl, log }),
    describeUser: (githubUserId: number) => describeUser(db, githubUserId),
    secureCookies: baseUrl.startsWith("https://"),
    rateLimits,
  };
}
