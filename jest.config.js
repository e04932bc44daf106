/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // Transpile only (tsconfig.test.json): `npm run lint` type-checks the whole tree, once.
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  globalSetup: "<rootDir>/test/helpers/global-setup.ts",
  globalTeardown: "<rootDir>/test/helpers/global-teardown.ts",
  setupFilesAfterEnv: ["<rootDir>/test/helpers/setup-nock.ts"],
  testTimeout: 20000,
  // Most tests wait on a database or a socket, so two workers share two cores well; a worker that
  // grows past the limit is replaced, which keeps the peak under 1.5 GB.
  maxWorkers: 2,
  workerIdleMemoryLimit: "400MB",
};
