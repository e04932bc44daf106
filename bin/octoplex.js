#!/usr/bin/env node
"use strict";
// Built by `npm run build` (npm ci runs it through `prepare`).
require("../lib/cli/main.js")
  .main(process.argv)
  .then((code) => process.exit(code));
