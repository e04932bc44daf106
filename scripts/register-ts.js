"use strict";
// `node -r ./scripts/register-ts.js some.ts`: runs TypeScript with no build step (child processes in
// tests, benchmarks). Transpile only, no type check: `tsc --noEmit` does that.
//
// The output is kept on disk (one file per source version), so a process whose files were seen
// before never loads the compiler: the tests start several such processes at once, and each would
// otherwise hold about 100 MB more and take seconds longer to start.
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require("node:fs");
const { tmpdir, userInfo } = require("node:os");
const { join } = require("node:path");
const { cacheKey, transpile } = require("./transpile-ts");

const CACHE = join(tmpdir(), `octoplex-register-ts-${userInfo().uid}`);

function compiled(filename) {
  const source = readFileSync(filename, "utf8");
  const cached = join(CACHE, `${cacheKey(filename, source)}.js`);
  try {
    return readFileSync(cached, "utf8");
  } catch {
    const output = transpile(filename, source);
    try {
      mkdirSync(CACHE, { recursive: true });
      // Written aside, then renamed: a process reading it at the same moment sees all of it or nothing.
      const partial = `${cached}.${process.pid}`;
      writeFileSync(partial, output);
      renameSync(partial, cached);
    } catch {
      // A read-only or full temporary directory: run uncached.
    }
    return output;
  }
}

process.setSourceMapsEnabled(true); // stack traces point at the .ts lines
require.extensions[".ts"] = (module, filename) => module._compile(compiled(filename), filename);
