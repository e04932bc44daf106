import pino from "pino";
import { migrateLatest } from "../../../src/db/migrate";
import { createDeps, Deps } from "../../../src/deps";
import { FakeGithub, startFakeGithub } from "../../fakes/fake-github";
import { installationApiRoutes, tokenMints } from "../../fakes/github-installation-api";
import { startTokenWorkers, TokenWorkers } from "../../fakes/token-workers";
import { testConfig } from "../../helpers/config";
import { findSecretsInDatabase } from "../../helpers/database-scan";
import { countRows } from "../../helpers/factories";
import { createTestDatabase, databaseKinds, TestDatabase } from "../../helpers/databases";
import { TestOctokit } from "../../helpers/test-octokit";

const PROCESSES = 3;
const CALLS_PER_PROCESS = 100;

// Separate Node processes share one database and one (fake) GitHub over HTTP: Probot alone would
// mint an installation token in each process (and, for calls that start together, for each call).
describe.each(databaseKinds())("installation tokens shared across processes on %s", (kind) => {
  let database: TestDatabase;
  let github: FakeGithub;
  let deps: Deps;
  let workers: TokenWorkers;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    github = await startFakeGithub();
    github.addRoutes(installationApiRoutes(github));
    const url = new URL(github.url);
    deps = createDeps(testConfig(database.config, { GHE_HOST: url.host, GHE_PROTOCOL: "http" }), { log: pino({ level: "silent" }), Octokit: TestOctokit });
    await migrateLatest(deps.db);
    workers = await startTokenWorkers(PROCESSES, { database: database.config, githubUrl: github.url, cache: "shared" });
  }, 60_000);

  afterAll(async () => {
    await workers?.close();
    await deps?.close();
    await github?.close();
    await database?.drop();
  });

  test(`${PROCESSES} processes × ${CALLS_PER_PROCESS} API calls, all starting at once, as one installation → GitHub mints one token`, async () => {
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
