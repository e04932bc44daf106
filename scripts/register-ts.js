"use strict";
// `node -r ./scripts/register-ts.js some.ts`: runs TypeScript with no build step (child processes in
// tests, benchmarks). Transpile only, no type check: `tsc --noEmit` does that.
const { readFileSync } = require("node:fs");
const ts = require("typescript");

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  inlineSourceMap: true,
};

process.setSourceMapsEnabled(true); // stack traces point at the .ts lines
require.extensions[".ts"] = (module, filename) => {
  const { outputText } = ts.transpileModule(readFileSync(filename, "utf8"), { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
