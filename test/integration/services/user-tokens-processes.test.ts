import { createTokenCipher } from "../../../src/crypto/token-cipher";
import { findUserToken } from "../../../src/repositories/user-tokens";
import { refreshContext } from "../../../src/services/identity/user-tokens";
import { startRefreshWorkers } from "../../fakes/refresh-workers";
import { databaseKinds } from "../../helpers/databases";
import { runAlone } from "../../helpers/run-alone";
import { ALICE, seedSignedInUser } from "../../helpers/users";
import { useWorkerHost } from "../../helpers/worker-host";

runAlone();

const PROCESSES = 3;
const CALLERS_PER_PROCESS = 50;
const ROUNDS = 3;

// Separate Node processes share one database and one (fake) GitHub: GitHub's refresh tokens are
// single-use, so a second refresh of the same token would lose the user's grant.
describe.each(databaseKinds())("getUserToken refresh across %s processes", (kind) => {
  const setup = useWorkerHost(kind, ({ database, github }) =>
    startRefreshWorkers({ processes: PROCESSES, database: database.config, githubUrl: github.url }),
  );

  test(`an expired token: ${PROCESSES} processes × ${CALLERS_PER_PROCESS} callers → one refresh at GitHub, everyone gets the new token (${ROUNDS} rounds)`, async () => {
    const { github, deps, workers } = setup();
    const cipher = createTokenCipher(deps.config.tokenEncryptionKeys!);
    for (let round = 1; round <= ROUNDS; round++) {
      // 60 s left is inside the five-minute margin: the next getUserToken refreshes.
      const expired = github.issue(ALICE);
      await seedSignedInUser(deps, ALICE, { expiresInMs: 60_000, tokens: expired });
      const callsBefore = github.refreshCalls;

      // This process holds no transaction (nor SQLite's write lock) while the workers run.
      const results = await workers.run(ALICE.id, CALLERS_PER_PROCESS);

      const fresh = github.current!;
      expect({ round, errors: results.flatMap((r) => r.errors) }).toEqual({ round, errors: [] });
      expect({ round, refreshCalls: github.refreshCalls - callsBefore }).toEqual({ round, refreshCalls: 1 });
      expect(fresh.token).not.toBe(expired.token);
      expect({ round, tokens: [...new Set(results.flatMap((r) => r.tokens))] }).toEqual({ round, tokens: [fresh.token] });
      expect(results.reduce((sum, r) => sum + r.ok, 0)).toBe(PROCESSES * CALLERS_PER_PROCESS);
      const stored = await findUserToken(deps.db, ALICE.id);
      expect(cipher.decrypt(stored!.refreshTokenEncrypted!, refreshContext(ALICE.id))).toBe(fresh.refreshToken);
    }
  }, 60_000);
});
