import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync } from "node:fs";
import { join } from "node:path";

/**
 * After Probot's setup flow, .env has the app's credentials but not Octoplex's own secrets. On a
 * development machine (NODE_ENV not production, a .env present) the missing ones are generated
 * once and written to .env, the way Probot writes its own. Nothing is ever defaulted in memory.
 */
export function completeDevelopmentEnv(env: NodeJS.ProcessEnv, cwd: string): string[] {
  const file = join(cwd, ".env");
  if (env.NODE_ENV === "production" || !existsSync(file)) return [];
  const generated: Record<string, string> = {};
  if (!env.TOKEN_ENCRYPTION_KEYS?.trim()) generated.TOKEN_ENCRYPTION_KEYS = `k1:${randomBytes(32).toString("base64")}`;
  if (!env.SESSION_SECRET?.trim()) generated.SESSION_SECRET = randomBytes(32).toString("hex");
  if (!env.BASE_URL?.trim()) generated.BASE_URL = developmentBaseUrl(env);
  const names = Object.keys(generated);
  if (names.length === 0) return [];
  appendFileSync(file, `\n# Written by npm start on a development machine\n${names.map((n) => `${n}=${generated[n]}`).join("\n")}\n`);
  Object.assign(env, generated);
  return names;
}

/** Where a development machine serves Octoplex; the setup flow registers the app's URLs on it too. */
export function developmentBaseUrl(env: NodeJS.ProcessEnv): string {
  return `http://localhost:${env.PORT?.trim() || "3000"}`;
}
