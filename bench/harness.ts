// What every benchmark does around its measurements: its database, its problems, its exit.
import { createTestDatabase, DatabaseKind, TestDatabase } from "../test/helpers/databases";
import { ADMIN_POSTGRES_URL } from "../test/helpers/postgres-url";

/** A fresh database of `kind`; when there is none to be had, an error that ends with `hint`. */
export function createBenchDatabase(kind: DatabaseKind, hint: string): Promise<TestDatabase> {
  return createTestDatabase(kind).catch((error: Error) => {
    throw new Error(`cannot create a database on ${ADMIN_POSTGRES_URL} (${error.message}); ${hint}`);
  });
}

/** Prints the first `limit` problems on stderr; the exit code: 0 for none, 1 otherwise. */
export function reportProblems(problems: string[], limit = Infinity): number {
  for (const p of problems.slice(0, limit)) console.error(`problem: ${p}`);
  if (problems.length > limit) console.error(`… and ${problems.length - limit} more`);
  return problems.length === 0 ? 0 : 1;
}

/** Runs `main`, then `cleanup` (on Ctrl-C too), and exits with main's code (1 when it throws). */
export function runBench(main: () => Promise<number>, cleanup: () => Promise<void>): void {
  process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  main()
    .then(async (code) => {
      await cleanup();
      process.exit(code);
    })
    .catch(async (error: Error) => {
      console.error(error.message);
      await cleanup().catch(() => undefined);
      process.exit(1);
    });
}
