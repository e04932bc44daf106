#!/usr/bin/env node
"use strict";
// `npm ci` (prepare) links node_modules/.bin/octoplex to bin/octoplex.js, so `npx octoplex` starts
// the command at once. package.json has no "bin" on purpose: for a package's own bin, npx reads the
// whole installed tree and installs the package into its cache first (26 s the first time, 4 s after).
const { mkdirSync, readlinkSync, rmSync, symlinkSync } = require("node:fs");
const { join, relative } = require("node:path");

const root = join(__dirname, "..");
const binDir = join(root, "node_modules", ".bin");
const link = join(binDir, "octoplex");
const target = relative(binDir, join(root, "bin", "octoplex.js"));

let current;
try {
  current = readlinkSync(link);
} catch {
  current = undefined;
}
if (current !== target) {
  mkdirSync(binDir, { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(target, link);
}
