/**
 * A demonstration for people (and for a closing note), not a test: against the fake GitHub on
 * loopback, Octoplex misses two deliveries while "down", `octoplex redeliver` asks for them again,
 * and a link made through the API reaches a Standard Webhooks receiver that verifies it.
 *
 *   node -r ./scripts/register-ts.js scripts/demo-events.ts
 */
import { createHookDeliveries } from "../test/fakes/github-hook-deliveries";
import { createCliTarget } from "../test/helpers/cli";
import { TEST_WEBHOOK_SECRET } from "../test/helpers/config";
import { startE2E } from "../test/helpers/e2e";
import { platformEnv, startPlatformReceiver, waitUntil } from "../test/helpers/platform-receiver";
import { BOB } from "../test/helpers/users";

async function main() {
  const receiver = await startPlatformReceiver();
  const cli = await createCliTarget("sqlite");
  const e2e = await startE2E(cli.database, platformEnv(receiver));
  const hooks = createHookDeliveries({ url: e2e.url("/api/github/webhooks"), secret: TEST_WEBHOOK_SECRET });
  e2e.github.addRoutes(hooks.routes);
  const ghe = { GHE_HOST: new URL(e2e.github.url).host, GHE_PROTOCOL: "http" };
  try {
    const { github, db } = e2e;
    const acme = github.world.install(github.world.addOrg({ id: 9001, login: "acme" }));
    github.world.setMembership(github.world.org("acme")!, BOB, "admin");
    console.log("GitHub delivers installation.created for acme while Octoplex is down…");
    await hooks.deliver("installation", github.installationEvent("created", acme), { down: true });
    console.log(`installations in Octoplex: ${JSON.stringify(await db("installations").pluck("account_login"))}`);

    console.log("\n$ octoplex redeliver");
    for (const line of (await cli.run(["redeliver"], ghe)).out) console.log(line);
    console.log(`installations in Octoplex: ${JSON.stringify(await db("installations").pluck("account_login"))}`);
    console.log("\n$ octoplex redeliver   # right after");
    for (const line of (await cli.run(["redeliver"], ghe)).out) console.log(line);

    console.log("\nBob signs in, creates a team and connects acme through the API…");
    const bob = await e2e.signIn(BOB);
    const team = (await bob.json("POST", e2e.url("/api/teams"), { name: "Platform" })).body as { id: number };
    const linked = await bob.json("POST", e2e.url(`/api/teams/${team.id}/installations`), { installationId: acme.id });
    console.log(`POST /api/teams/${team.id}/installations → ${linked.status}`);
    // What the dispatch loop of `npm start` does every second (the bare test server runs none).
    const sent = await e2e.server.deps.services.dispatcher!.dispatchDue();
    console.log(`dispatcher: ${JSON.stringify(sent)}`);
    await waitUntil(() => receiver.received.length > 0, "the platform event");
    const [event] = receiver.received;
    console.log("\nThe platform's Standard Webhooks receiver got:");
    console.log(`  webhook-id: ${event.webhookId}\n  webhook-timestamp: ${event.timestamp}\n  verified with standardwebhooks: ${event.verified}`);
    console.log(`  body: ${JSON.stringify(event.body)}`);
  } finally {
    await e2e.close();
    await cli.close();
    await receiver.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
