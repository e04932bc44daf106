import { ConfigError, parseConfig } from "../config";
import { createDeps } from "../deps";
import { createLambdaApp } from "./lambda-app";

/**
 * Runs once per container, at import: config, a small Postgres pool, Probot, the routes.
 * Migrations are a separate step (`octoplex migrate`, or the `migrate` job), not every cold start.
 */
function init() {
  const config = parseConfig(process.env, "server");
  if (config.database.client !== "postgres") {
    throw new ConfigError([
      "DATABASE_URL is required on Lambda: SQLite in the function's /tmp would lose every write when the container is recycled",
    ]);
  }
  return createLambdaApp(createDeps(config, { knex: { poolMax: 2 } }));
}

const app = init();

export const handler = (event: unknown, context: unknown) => app.handle(event, context);
