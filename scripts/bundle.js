#!/usr/bin/env node
"use strict";
// npm run bundle: the Lambda handler as one file, dist/lambda/handler.js, with a source map.
// `node scripts/bundle.js --outfile /tmp/x/handler.js` writes elsewhere (tests, so parallel runs
// never share a file); `--metafile meta.json` writes esbuild's metafile (what is big, and why).
const { build } = require("esbuild");
const { copyFileSync, statSync, writeFileSync } = require("node:fs");
const { dirname, join, relative, resolve } = require("node:path");
const { parseArgs } = require("node:util");

const root = join(__dirname, "..");

// Drivers knex can load but Lambda never uses (the database there is Postgres); the first six
// fail the build otherwise (STACK.md pitfall 9).
const external = ["better-sqlite3", "mysql", "mysql2", "mariadb", "oracledb", "tedious", "pg-query-stream", "pg-native", "sqlite3"];

// No V8 code cache beside the bundle (vm.Script cachedData): it halved the module load here
// (265 -> 140 ms), but V8 rejects a cache made under other V8 flags, Lambda's runtime starts node
// with --expose-gc and heap sizes of its own, and a rejected cache cost 20-35 ms more than none.

// Code Lambda never runs, replaced by small stubs: a cold start compiles every byte of the bundle,
// so what is left out is time saved (measured with `npm run bench:coldstart`; find the big parts
// with `--metafile`). Each stub fails loudly if something does reach it.
const fail = (message) => `throw new Error(${JSON.stringify(message)});`;
const KNEX_OTHER_DIALECTS = "better-sqlite3|cockroachdb|mssql|mysql|mariadb|mysql2|oracle|oracledb|pgnative|redshift|sqlite3";
const stubs = {
  name: "lambda-stubs",
  setup(b) {
    // @probot/pino loads @sentry/node (and OpenTelemetry) eagerly; Octoplex logs with its own pino.
    b.onResolve({ filter: /^@sentry\/node$/ }, () => ({ path: "@sentry/node", namespace: "stub" }));
    b.onLoad({ filter: /^@sentry\/node$/, namespace: "stub" }, () => ({
      contents: "module.exports = { init() {}, captureException() {}, withScope() {} };",
      loader: "js",
    }));
    // Probot constructs a Redis client only when given redisConfig, which Octoplex never passes.
    b.onResolve({ filter: /^ioredis$/ }, () => ({ path: "ioredis", namespace: "stub" }));
    b.onLoad({ filter: /^ioredis$/, namespace: "stub" }, () => ({
      contents: `module.exports = { Redis: class Redis { constructor() { ${fail("ioredis is not in the Lambda bundle (scripts/bundle.js)")} } } };`,
      loader: "js",
    }));
    // knex loads a dialect only for its client; on Lambda that is always pg (src/lambda/handler.ts).
    b.onLoad({ filter: new RegExp(`[\\\\/]knex[\\\\/]lib[\\\\/]dialects[\\\\/](${KNEX_OTHER_DIALECTS})[\\\\/]index\\.js$`) }, (args) => ({
      contents: fail(`knex's ${args.path.split(/[\\/]/).slice(-2)[0]} dialect is not in the Lambda bundle: Octoplex on Lambda uses Postgres`),
      loader: "js",
    }));
    // iconv-lite's multi-byte tables (CJK charsets). The JSON and form parsers refuse those charsets
    // before decoding; for the text parser the message makes raw-body answer 415 "unsupported charset".
    b.onLoad({ filter: /[\\/]iconv-lite[\\/]encodings[\\/]tables[\\/][^\\/]+\.json$/ }, (args) => ({
      contents: fail(`Encoding not recognized: the ${args.path.split(/[\\/]/).pop()} table is not in the Lambda bundle`),
      loader: "js",
    }));
    // zod's error messages in 40-odd languages; only English (its default) is used.
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: 'export { default as en } from "./en.js";', loader: "js" }));
  },
};

async function bundle({ outfile = join(root, "dist/lambda/handler.js"), metafile, minify = true } = {}) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(root, "src/lambda/handler.ts")],
    outfile,
    bundle: true,
    platform: "node",
    // Both runtimes the template allows (nodejs24.x, nodejs22.x) run node22 syntax. CommonJS, since
    // Lambda's Node 22 runtime turns require(esm) off and Probot's Lambda adapter is CommonJS.
    target: "node22",
    format: "cjs",
    minify,
    sourcemap: true,
    // Stack traces need the mappings, not the sources: a smaller map is parsed faster with --enable-source-maps.
    sourcesContent: false,
    external,
    plugins: [stubs],
    logLevel: "warning",
    legalComments: "external",
    metafile: Boolean(metafile),
  });
  if (metafile) writeFileSync(metafile, JSON.stringify(result.metafile));
  // GET /openapi.json reads the contract next to the handler (src/http/openapi-router.ts).
  copyFileSync(join(root, "openapi.yaml"), join(dirname(outfile), "openapi.yaml"));
  return { outfile, bytes: statSync(outfile).size };
}

module.exports = { bundle };

if (require.main === module) {
  const { values } = parseArgs({ options: { outfile: { type: "string" }, metafile: { type: "string" } } });
  bundle({ outfile: values.outfile && resolve(values.outfile), metafile: values.metafile && resolve(values.metafile) })
    .then(({ outfile, bytes }) => console.log(`${relative(process.cwd(), outfile)}: ${(bytes / 1024 / 1024).toFixed(2)} MB (${bytes} bytes)`))
    .catch(() => process.exit(1));
}
