"use strict";
// Jest's transform for the test files: TypeScript transpiled one file at a time, as register-ts.js
// does for child processes (no type check: `npm run lint` does that once). Unlike ts-jest it asks
// for the compiler only on a cache miss, so a worker on a warm cache (Jest keeps transformed files
// across runs) never loads it, which is about 100 MB less in each worker. It does not hoist
// `jest.mock` calls above the imports; nothing in test/ uses jest.mock.
const { cacheKey, transpile } = require("./transpile-ts");

module.exports = {
  getCacheKey(source, filename, options) {
    return `${cacheKey(filename, source)}-${options.instrument ? "instrumented" : "plain"}`;
  },
  process(source, filename) {
    return { code: transpile(filename, source) };
  },
};
