#!/usr/bin/env node
"use strict";
// Built by `npm run build`; npm ci runs it through `prepare`, which also links this file as
// node_modules/.bin/octoplex for `npx octoplex` (scripts/link-cli.js).
require("../lib/cli/main.js")
  .main(process.argv)
  .then((code) => process.exit(code));
