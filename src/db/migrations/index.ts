import type { Knex } from "knex";
import * as initialSchema from "./20261125000000_initial_schema";
import * as signIn from "./20261125010000_sign_in";
import * as installationTokens from "./20261125020000_installation_tokens";
import * as outbox from "./20261125030000_outbox";
import * as outboxPendingIndexes from "./20261202000000_outbox_pending_indexes";
import * as auditEventsByTeamOnly from "./20261202010000_audit_events_by_team_only";
import * as outboxPendingById from "./20261202020000_outbox_pending_by_id";
import * as rateLimits from "./20261207010000_rate_limits";
import * as apiKeyTeams from "./20261207020000_api_key_teams";
import * as repositoryDetails from "./20261207040000_repository_details";
import * as linkScopes from "./20261207050000_link_scopes";
import * as repositoryDepartures from "./20261207063000_repository_departures";
import * as teamEvents from "./20261207070000_team_events";
import * as outboxPendingByIdDropped from "./20261207080000_outbox_pending_by_id_dropped";
import * as auditEventsRoutedByCreatedAt from "./20261207090000_audit_events_routed_by_created_at";
import * as eventTablesPostgresUpkeep from "./20261207100000_event_tables_postgres_upkeep";
import * as routedEventsByCreatedAt from "./20261207110000_routed_events_by_created_at";

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Listed here rather than read from a directory, so the same migrations run from the tests,
// from lib/ and from a single-file Lambda bundle.
const migrations: Record<string, Migration> = {
  "20261125000000_initial_schema": initialSchema,
  "20261125010000_sign_in": signIn,
  "20261125020000_installation_tokens": installationTokens,
  "20261125030000_outbox": outbox,
  "20261202000000_outbox_pending_indexes": outboxPendingIndexes,
  "20261202010000_audit_events_by_team_only": auditEventsByTeamOnly,
  "20261202020000_outbox_pending_by_id": outboxPendingById,
  "20261207010000_rate_limits": rateLimits,
  "20261207020000_api_key_teams": apiKeyTeams,
  "20261207040000_repository_details": repositoryDetails,
  "20261207050000_link_scopes": linkScopes,
  "20261207063000_repository_departures": repositoryDepartures,
  "20261207070000_team_events": teamEvents,
  "20261207080000_outbox_pending_by_id_dropped": outboxPendingByIdDropped,
  "20261207090000_audit_events_routed_by_created_at": auditEventsRoutedByCreatedAt,
  "20261207100000_event_tables_postgres_upkeep": eventTablesPostgresUpkeep,
  "20261207110000_routed_events_by_created_at": routedEventsByCreatedAt,
};

export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return Object.keys(migrations).sort();
  },
  getMigrationName(name) {
    return name;
  },
  async getMigration(name) {
    return migrations[name];
  },
};
