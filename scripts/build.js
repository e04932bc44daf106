#!/usr/bin/env node
"use strict";
// npm run build: tsc over src/ into lib/, then a stamp (lib/.build-stamp) dated when that build began.
// `--if-stale` (npm start's prestart) skips tsc when no input is newer than the stamp: npm ci has
// already built through `prepare`, and a full tsc costs ~25 s on a busy machine. An edited, added
// or checked-out file under src/ (or a tsconfig, or the lock file) is newer, so it is rebuilt.
const { spawnSync } = require("node:child_process");
const { closeSync, existsSync, openSync, readdirSync, statSync, utimesSync } = require("node:fs");
const { join } = require("node:path");

const root = join(__dirname, "..");
const stamp = join(root, "lib", ".build-stamp");
const inputs = ["src", "tsconfig.json", "tsconfig.build.json", "package-lock.json"];

function newestMtime(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  // A deleted or renamed file changes its directory's mtime.
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), stat.mtimeMs);
}

function isStale() {
  if (!existsSync(stamp) || !existsSync(join(root, "lib", "main.js"))) return true;
  const built = statSync(stamp).mtimeMs;
  return inputs.some((input) => newestMtime(join(root, input)) > built);
}

if (process.argv.includes("--if-stale") && !isStale()) process.exit(0);

const began = new Date();
const tsc = require.resolve("typescript/bin/tsc", { paths: [root] });
const result = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (result.status !== 0) process.exit(result.status ?? 1);
// Dated at the start, so that a file saved while tsc ran still counts as newer next time.
closeSync(openSync(stamp, "w"));
utimesSync(stamp, began, began);
