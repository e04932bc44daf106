/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // Transpile only, as child processes do (scripts/register-ts.js): `npm run lint` type-checks the whole tree, once.
  transform: { "^.+\\.ts$": "<rootDir>/scripts/jest-transform.js" },
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  globalSetup: "<rootDir>/test/helpers/global-setup.ts",
  globalTeardown: "<rootDir>/test/helpers/global-teardown.ts",
  setupFilesAfterEnv: ["<rootDir>/test/helpers/setup-nock.ts"],
  testTimeout: 20000,
  // Most tests wait on a database or a socket, so two workers share two cores well. The peak of the
  // whole process tree stays under 1.5 GB (1.48 GB measured; `npm run bench:suite-memory`) because a
  // worker whose heap grew past the limit is replaced after its file, and because the files that
  // start processes of their own take turns (test/helpers/run-alone.ts), spread over the run.
  maxWorkers: 2,
  workerIdleMemoryLimit: "200MB",
  testSequencer: "<rootDir>/scripts/jest-sequencer.js",
};
