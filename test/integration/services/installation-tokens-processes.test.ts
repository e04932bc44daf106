import { tokenMints } from "../../fakes/github-installation-api";
import { startTokenWorkers } from "../../fakes/token-workers";
import { findSecretsInDatabase } from "../../helpers/database-scan";
import { countRows } from "../../helpers/factories";
import { databaseKinds } from "../../helpers/databases";
import { runAlone } from "../../helpers/run-alone";
import { useWorkerHost } from "../../helpers/worker-host";

runAlone();

const PROCESSES = 3;
const CALLS_PER_PROCESS = 100;

// Separate Node processes share one database and one (fake) GitHub over HTTP: Probot alone would
// mint an installation token in each process (and, for calls that start together, for each call).
describe.each(databaseKinds())("installation tokens shared across processes on %s", (kind) => {
  const setup = useWorkerHost(
    kind,
    ({ database, github }) => startTokenWorkers(PROCESSES, { database: database.config, githubUrl: github.url, cache: "shared" }),
    { installationApi: true },
  );

  test(`${PROCESSES} processes × ${CALLS_PER_PROCESS} API calls, all starting at once, as one installation → GitHub mints one token`, async () => {
    const { github, deps, workers } = setup();
    const acme = github.world.addOrg({ id: 9001, login: "acme" });
    const installation = github.world.install(acme);

    const results = await workers.run({ installationId: installation.id, owner: "acme", repo: "widgets", calls: CALLS_PER_PROCESS, concurrency: CALLS_PER_PROCESS });

    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(results.reduce((sum, r) => sum + r.ok, 0)).toBe(PROCESSES * CALLS_PER_PROCESS);
    expect(tokenMints(github, installation.id)).toBe(1);
    expect(github.requests.filter((r) => r.path === "/api/v3/repos/acme/widgets")).toHaveLength(PROCESSES * CALLS_PER_PROCESS);
    // One row, encrypted: the token GitHub handed out appears nowhere in the database.
    expect(await countRows(deps.db, "installation_tokens")).toBe(1);
    expect(await findSecretsInDatabase(deps.db, ["ghs_"])).toEqual([]);
  }, 60_000);
});
