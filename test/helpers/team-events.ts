import type { Knex } from "knex";
import { writeScope } from "../../src/repositories/link-scopes";
import { replaceSubscriptions } from "../../src/repositories/team-subscriptions";
import { seedLinks, seedTeams } from "./factories";
import type { PlatformReceiver, ReceivedRequest } from "./platform-receiver";
import type { TestServer } from "./test-server";

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
