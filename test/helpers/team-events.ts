import type { Knex } from "knex";
import { writeScope } from "../../src/repositories/link-scopes";
import { replaceSubscriptions } from "../../src/repositories/team-subscriptions";
import { seedLinks, seedTeams } from "./factories";
import { createTestDatabase, DatabaseKind, TestDatabase, truncateAll } from "./databases";
import { PlatformReceiver, platformEnv, ReceivedRequest, startPlatformReceiver } from "./platform-receiver";
import { startTestServer, TestServer } from "./test-server";

/**
 * A team linked to `installationId` with `scope` ("all" or repository ids, which must be stored
 * repositories of the installation) and subscribed to `events`; its id.
 */
export async function subscribedTeam(
  db: Knex,
  name: string,
  installationId: number,
  { scope = "all", events = ["push"] }: { scope?: "all" | number[]; events?: string[] } = {},
): Promise<number> {
  const [team] = await seedTeams(db, 1, name);
  await seedLinks(db, installationId, [team]);
  if (scope !== "all") await writeScope(db, team.id, installationId, scope);
  await replaceSubscriptions(db, team.id, events);
  return team.id;
}

/**
 * Runs the server's dispatcher until nothing is due, then the routed GitHub events the receiver
 * accepted (`github.*`), each checked to carry a valid Standard Webhooks signature.
 */
export async function dispatchGithubEvents(server: TestServer, receiver: PlatformReceiver): Promise<ReceivedRequest[]> {
  await server.deps.services.dispatcher!.dispatchDue();
  const accepted = receiver.accepted().filter((r) => r.body.type.startsWith("github."));
  for (const r of accepted) expect(r.verified).toBe(true);
  return accepted;
}

export interface PlatformServer {
  database: TestDatabase;
  receiver: PlatformReceiver;
  server: TestServer;
}

/**
 * The real server of a test file, on `kind`, sending its platform events to a receiver that
 * verifies each signature; emptied before each test. Read its fields inside tests and hooks.
 */
export function platformServer(kind: DatabaseKind): PlatformServer {
  const env = {} as PlatformServer;
  beforeAll(async () => {
    env.database = await createTestDatabase(kind);
    env.receiver = await startPlatformReceiver();
    env.server = await startTestServer(env.database, platformEnv(env.receiver));
  });
  beforeEach(async () => {
    await truncateAll(env.server.deps.db);
    env.receiver.received.length = 0;
    env.receiver.mode = "ok";
  });
  afterAll(async () => {
    await env.server?.close();
    await env.receiver?.close();
    await env.database?.drop();
  });
  return env;
}
