import { config as loadDotenv } from "dotenv";
import { run } from "probot";
import { ConfigError, needsAppSetup, parseConfig } from "./config";
import { migrateLatest } from "./db/migrate";
import { createDeps } from "./deps";
import { startServer } from "./server";

/** `npm start`: Probot's setup flow on a fresh checkout, else migrate and serve. */
async function main(): Promise<void> {
  loadDotenv({ quiet: true } as never);
  if (needsAppSetup(process.env)) {
    console.log(
      "APP_ID and the private key are not set: starting Probot's setup flow.\n" +
        "Open the URL below to create the GitHub App from app.yml; it writes .env. Then run `npm start` again.",
    );
    await run(() => undefined);
    return;
  }
  let config;
  try {
    config = parseConfig(process.env, "server");
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const deps = createDeps(config);
  const { applied } = await migrateLatest(deps.db);
  if (applied.length > 0) deps.log.info({ applied }, "database migrated");
  const running = await startServer(deps);
  deps.log.info(`Octoplex listening on ${running.url} (${config.database.client})`);

  const shutdown = async (signal: string) => {
    deps.log.info(`${signal}: shutting down`);
    await running.close();
    await deps.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
