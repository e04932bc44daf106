"use strict";
// TypeScript to CommonJS, one file at a time (no type check: `npm run lint` does that), shared by
// scripts/register-ts.js (child processes in tests, benchmarks) and scripts/jest-transform.js (the
// test files). `typescript` is required only when a file has to be transpiled: loaded and used, it
// costs a process about 100 MB, and both callers keep a cache, so a warm run never loads it.
const { createHash } = require("node:crypto");

const compilerOptions = {
  module: "commonjs",
  target: "es2022",
  esModuleInterop: true,
  inlineSourceMap: true,
};

let ts;
/** The compiler's version, read without loading the compiler. */
const version = require("typescript/package.json").version;

/** A key that changes with the file, its path (in the source map) and how it is transpiled. */
function cacheKey(filename, source) {
  return createHash("sha1").update(`${version}\0${JSON.stringify(compilerOptions)}\0${filename}\0`).update(source).digest("hex");
}

/** The CommonJS output, with an inline source map. */
function transpile(filename, source) {
  ts ??= require("typescript");
  const options = { ...compilerOptions, module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 };
  return ts.transpileModule(source, { compilerOptions: options, fileName: filename }).outputText;
}

module.exports = { cacheKey, transpile };
