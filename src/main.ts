import { inspect } from "node:util";
import { config as loadDotenv } from "dotenv";
import { run } from "probot";
import { ConfigError, needsAppSetup, parseConfig } from "./config";
import { migrateLatest } from "./db/migrate";
import { createDeps, Deps, DepsOverrides } from "./deps";
import { completeDevelopmentEnv } from "./dev-env";
import { startDispatchLoop } from "./jobs/dispatch-loop";
import { startHousekeepingLoop } from "./jobs/housekeeping-loop";
import { redactTokens } from "./redact-tokens";
import { RunningServer, startServer } from "./server";
import { useOctoplexManifest } from "./setup-manifest";

/** Parses the config (failing with every problem at once), migrates, serves. */
export async function startOctoplex(
  env: NodeJS.ProcessEnv,
  overrides: DepsOverrides & { port?: number; host?: string; cwd?: string; housekeepingIntervalMs?: number } = {},
): Promise<{ deps: Deps; running: RunningServer; stop(): Promise<void> }> {
  const config = parseConfig(env, "server", overrides.cwd);
  const deps = createDeps(config, overrides);
  try {
    const { applied } = await migrateLatest(deps.db);
    if (applied.length > 0) deps.log.info({ applied }, "database migrated");
    const running = await startServer(deps, overrides.port ?? config.port, overrides.host);
    deps.log.info(`Octoplex listening on ${running.url} (database: ${config.database.client})`);
    const dispatch = deps.services.dispatcher ? startDispatchLoop(deps.services.dispatcher, deps.log) : undefined;
    const housekeeping = startHousekeepingLoop(deps.services.housekeeping, deps.log, overrides.housekeepingIntervalMs);
    return {
      deps,
      running,
      async stop() {
        await running.close();
        await dispatch?.stop();
        await housekeeping.stop();
        await deps.close();
      },
    };
  } catch (error) {
    await deps.close();
    throw error;
  }
}

/** `npm start`: Probot's setup flow on a fresh checkout, else Octoplex. */
async function main(): Promise<void> {
  loadDotenv({ quiet: true } as never);
  if (needsAppSetup(process.env)) {
    console.log(
      "APP_ID and the private key are not set: starting Probot's setup flow.\n" +
        "Open the URL below to create the GitHub App from app.yml; it writes .env. Then run `npm start` again.",
    );
    useOctoplexManifest(process.env);
    await run(() => undefined);
    return;
  }
  const added = completeDevelopmentEnv(process.env, process.cwd());
  if (added.length > 0) console.log(`Generated ${added.join(", ")} for this development machine and wrote them to .env`);
  const { deps, stop } = await startOctoplex(process.env);
  const shutdown = async (signal: string) => {
    deps.log.info(`${signal}: shutting down`);
    await stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

if (require.main === module) {
  main().catch((error) => {
    // Before (or without) the logger and its redaction: a startup failure may quote a token too.
    console.error(redactTokens(error instanceof ConfigError ? error.message : inspect(error)));
    process.exit(1);
  });
}
