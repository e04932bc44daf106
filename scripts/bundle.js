#!/usr/bin/env node
"use strict";
// npm run bundle: the Lambda handler as one file, dist/lambda/handler.js, with a source map.
const { build } = require("esbuild");
const { statSync } = require("node:fs");

// Drivers knex can load but Lambda never uses (the database there is Postgres); the first six
// fail the build otherwise (STACK.md pitfall 9).
const external = ["better-sqlite3", "mysql", "mysql2", "mariadb", "oracledb", "tedious", "pg-query-stream", "pg-native", "sqlite3"];

// @probot/pino loads @sentry/node (and OpenTelemetry) eagerly; Octoplex logs with its own pino.
const stubSentry = {
  name: "stub-sentry",
  setup(b) {
    b.onResolve({ filter: /^@sentry\/node$/ }, () => ({ path: "sentry-stub", namespace: "stub" }));
    b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({ contents: "module.exports = { init() {}, captureException() {}, withScope() {} };", loader: "js" }));
  },
};

build({
  entryPoints: ["src/lambda/handler.ts"],
  outfile: "dist/lambda/handler.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  sourcemap: true,
  external,
  plugins: [stubSentry],
  logLevel: "warning",
  legalComments: "external",
})
  .then(() => {
    const bytes = statSync("dist/lambda/handler.js").size;
    console.log(`dist/lambda/handler.js: ${(bytes / 1024 / 1024).toFixed(2)} MB (${bytes} bytes)`);
  })
  .catch(() => process.exit(1));
