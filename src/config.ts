import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";

/**
 * What a process needs depends on what it does: the server needs the app's identity and webhook
 * secret, `octoplex migrate` only the database, `octoplex reconcile` the database and the app's key,
 * `octoplex rotate-keys` the database and the encryption keys.
 */
export type ConfigScope = "server" | "app" | "database" | "encryption";

export interface Config {
  appId?: number;
  privateKey?: string;
  webhookSecret?: string;
  githubBaseUrl: string;
  githubWebBaseUrl: string;
  port: number;
  logLevel: LogLevel;
  /** Unset: human-readable on a terminal, JSON lines otherwise (log collectors). */
  logFormat?: "json" | "pretty";
  /** Postgres's `timeoutMs`: how long a query or a connection attempt may go unanswered (db/knex.ts). */
  database: { client: "sqlite"; filename: string } | { client: "postgres"; url: string; timeoutMs?: number };
  githubClientId?: string;
  githubClientSecret?: string;
  appSlug?: string;
  baseUrl?: string;
  tokenEncryptionKeys?: Array<{ id: string; key: Buffer }>;
  sessionSecret?: string;
  /** Where and how platform events are sent; `timeoutMs` per attempt (PLATFORM_WEBHOOK_TIMEOUT). */
  platformWebhook?: { url: string; secret: string; timeoutMs: number };
  /** Per client address and minute: GET /auth/login calls, and requests with a wrong API key. */
  rateLimits: { signInsPerMinute: number; failedApiKeysPerMinute: number };
  /** How long delivered platform events (and GitHub payloads only they used, and routed events' audit rows) are kept: EVENT_RETENTION. */
  eventRetentionMs: number;
}

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

export const DEFAULT_SQLITE_FILE = "./data/octoplex.sqlite";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

// Empty strings count as unset: `.env` files and CI systems write `NAME=` for "no value".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), schema.optional());

const hostname = z
  .string()
  .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, "must be a host name such as github.example.com, without scheme or path");

const keySpec = z.string().transform((value, ctx) => {
  const keys: Array<{ id: string; key: Buffer }> = [];
  for (const [index, part] of value.split(",").entries()) {
    const match = /^([A-Za-z0-9_-]+):([A-Za-z0-9+/]+={0,2})$/.exec(part.trim());
    const key = match ? Buffer.from(match[2], "base64") : undefined;
    if (!match || key?.length !== 32) {
      ctx.addIssue({ code: "custom", message: `entry ${index + 1} must be id:base64 of 32 bytes` });
      return z.NEVER;
    }
    if (keys.some((k) => k.id === match[1])) {
      ctx.addIssue({ code: "custom", message: `key id "${match[1]}" appears twice` });
      return z.NEVER;
    }
    keys.push({ id: match[1], key: key! });
  }
  return keys;
});

const DURATION_UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** 30m, 12h, 7d: a whole number and a unit, at least a minute. */
const duration = z
  .string()
  .regex(/^[1-9]\d{0,5}[mhd]$/, "must be a duration such as 30m, 12h or 7d")
  .transform((v) => Number(v.slice(0, -1)) * DURATION_UNITS[v.slice(-1) as keyof typeof DURATION_UNITS]);

/** 10s: whole seconds, 1 to 60. */
const seconds = z
  .string()
  .regex(/^([1-9]|[1-5]\d|60)s$/, "must be whole seconds from 1s to 60s, such as 10s")
  .transform((v) => Number(v.slice(0, -1)) * 1000);

const envSchema = z.object({
  APP_ID: optional(z.string().regex(/^\d+$/, "must be the numeric GitHub App id")),
  PRIVATE_KEY: optional(z.string()),
  PRIVATE_KEY_PATH: optional(z.string()),
  WEBHOOK_SECRET: optional(z.string().min(8, "must be at least 8 characters")),
  GHE_HOST: optional(hostname),
  GHE_PROTOCOL: optional(z.enum(["https", "http"])),
  PORT: optional(z.coerce.number().int().min(0).max(65535)),
  LOG_LEVEL: optional(z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"])),
  LOG_FORMAT: optional(z.enum(["json", "pretty"])),
  GITHUB_CLIENT_ID: optional(z.string()),
  GITHUB_CLIENT_SECRET: optional(z.string()),
  APP_SLUG: optional(z.string().regex(/^[a-z0-9-]+$/, "must be the app's URL slug (lowercase, digits, dashes)")),
  BASE_URL: optional(z.url({ protocol: /^https?$/, error: "must be an http(s) origin such as https://octoplex.example.com" })),
  DATABASE_URL: optional(
    z.string().refine(isPostgresUrl, "must be a postgres:// or postgresql:// connection URL with a host"),
  ),
  DATABASE_TIMEOUT_MS: optional(z.coerce.number({ error: "must be a whole number of milliseconds" }).int("must be a whole number of milliseconds").min(100, "must be at least 100 (ms)").max(600_000, "must be at most 600000 (10 minutes)")),
  TOKEN_ENCRYPTION_KEYS: optional(keySpec),
  SESSION_SECRET: optional(z.string().min(32, "must be at least 32 characters")),
  RATE_LIMIT_SIGN_INS_PER_MINUTE: optional(z.coerce.number().int().min(1, "must be at least 1")),
  RATE_LIMIT_FAILED_API_KEYS_PER_MINUTE: optional(z.coerce.number().int().min(1, "must be at least 1")),
  EVENT_RETENTION: optional(duration),
  PLATFORM_WEBHOOK_TIMEOUT: optional(seconds),
  PLATFORM_WEBHOOK_URL: optional(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" })),
  PLATFORM_WEBHOOK_SECRET: optional(
    z
      .string()
      .refine(
        (v) => /^(whsec_)?[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v.replace(/^whsec_/, ""), "base64").length >= 24,
        "must be a Standard Webhooks secret: whsec_ followed by base64 of 24+ random bytes",
      ),
  ),
});

function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "postgres:" || url.protocol === "postgresql:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/**
 * Parses the environment once. Every problem is collected before failing, so a broken deploy
 * shows the whole list instead of one variable per restart.
 */
export function parseConfig(env: NodeJS.ProcessEnv, scope: ConfigScope = "server", cwd = process.cwd()): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`);
  const privateKey = readPrivateKey(env, cwd, problems);
  if (scope === "server" || scope === "app") {
    if (!env.APP_ID?.trim()) problems.push("APP_ID is required (the GitHub App's numeric id)");
    if (!env.PRIVATE_KEY?.trim() && !env.PRIVATE_KEY_PATH?.trim()) {
      problems.push("PRIVATE_KEY or PRIVATE_KEY_PATH is required (the GitHub App's private key)");
    }
  }
  const required = (name: string, why: string) => {
    if (!env[name]?.trim()) problems.push(`${name} is required (${why})`);
  };
  if (scope === "server") {
    required("WEBHOOK_SECRET", "the secret set in the GitHub App's webhook settings");
    required("GITHUB_CLIENT_ID", "the GitHub App's client id, for sign-in");
    required("GITHUB_CLIENT_SECRET", "the GitHub App's client secret, for sign-in");
    required("BASE_URL", "the public origin, e.g. https://octoplex.example.com");
    required("SESSION_SECRET", "32+ random characters that sign sessions and sign-in states");
  }
  if (scope === "server" || scope === "encryption") {
    required("TOKEN_ENCRYPTION_KEYS", "id:base64-of-32-bytes[,…] that encrypt user tokens at rest");
  }
  if (Boolean(env.PLATFORM_WEBHOOK_URL?.trim()) !== Boolean(env.PLATFORM_WEBHOOK_SECRET?.trim())) {
    problems.push("PLATFORM_WEBHOOK_URL and PLATFORM_WEBHOOK_SECRET must be set together");
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems.sort());
  const e = parsed.data;

  const gheHost = e.GHE_HOST;
  const protocol = e.GHE_PROTOCOL ?? "https";
  return {
    appId: e.APP_ID ? Number(e.APP_ID) : undefined,
    privateKey,
    webhookSecret: e.WEBHOOK_SECRET,
    githubBaseUrl: gheHost ? `${protocol}://${gheHost}/api/v3` : "https://api.github.com",
    githubWebBaseUrl: gheHost ? `${protocol}://${gheHost}` : "https://github.com",
    port: e.PORT ?? 3000,
    logLevel: e.LOG_LEVEL ?? "info",
    logFormat: e.LOG_FORMAT,
    database: e.DATABASE_URL
      ? { client: "postgres", url: e.DATABASE_URL, ...(e.DATABASE_TIMEOUT_MS ? { timeoutMs: e.DATABASE_TIMEOUT_MS } : {}) }
      : { client: "sqlite", filename: resolve(cwd, DEFAULT_SQLITE_FILE) },
    githubClientId: e.GITHUB_CLIENT_ID,
    githubClientSecret: e.GITHUB_CLIENT_SECRET,
    appSlug: e.APP_SLUG,
    baseUrl: e.BASE_URL?.replace(/\/+$/, ""),
    tokenEncryptionKeys: e.TOKEN_ENCRYPTION_KEYS,
    sessionSecret: e.SESSION_SECRET,
    platformWebhook:
      e.PLATFORM_WEBHOOK_URL && e.PLATFORM_WEBHOOK_SECRET
        ? { url: e.PLATFORM_WEBHOOK_URL, secret: e.PLATFORM_WEBHOOK_SECRET, timeoutMs: e.PLATFORM_WEBHOOK_TIMEOUT ?? 10_000 }
        : undefined,
    rateLimits: {
      signInsPerMinute: e.RATE_LIMIT_SIGN_INS_PER_MINUTE ?? 30,
      failedApiKeysPerMinute: e.RATE_LIMIT_FAILED_API_KEYS_PER_MINUTE ?? 20,
    },
    eventRetentionMs: e.EVENT_RETENTION ?? 7 * DURATION_UNITS.d,
  };
}

/** True when neither the app id nor a key is set: the state Probot's setup flow starts from. */
export function needsAppSetup(env: NodeJS.ProcessEnv): boolean {
  return !env.APP_ID?.trim() && !env.PRIVATE_KEY?.trim() && !env.PRIVATE_KEY_PATH?.trim();
}

function readPrivateKey(env: NodeJS.ProcessEnv, cwd: string, problems: string[]): string | undefined {
  let key = env.PRIVATE_KEY?.trim();
  const path = env.PRIVATE_KEY_PATH?.trim();
  if (!key && path) {
    try {
      key = readFileSync(resolve(cwd, path), "utf8").trim();
    } catch {
      problems.push(`PRIVATE_KEY_PATH cannot be read: ${path}`);
      return undefined;
    }
  }
  if (!key) return undefined;
  // Hosts that cannot hold multi-line values get "\n" escapes or base64 (as Probot accepts).
  if (key.includes("\\n")) key = key.replace(/\\n/g, "\n");
  if (!key.includes("-----BEGIN")) {
    const decoded = Buffer.from(key, "base64").toString("utf8");
    if (decoded.includes("-----BEGIN")) key = decoded;
  }
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(key)) {
    problems.push(`${env.PRIVATE_KEY?.trim() ? "PRIVATE_KEY" : "PRIVATE_KEY_PATH"} is not a PEM private key`);
    return undefined;
  }
  return key;
}
