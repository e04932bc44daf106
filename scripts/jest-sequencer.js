"use strict";
// Jest's order (failed first, then slowest first), with the test files that call runAlone()
// (test/helpers/run-alone.ts: they start processes of their own and take turns) spread evenly over
// the run: put side by side, as the slowest-first order would, one worker would wait for the other.
const { readFileSync } = require("node:fs");
const Sequencer = require("@jest/test-sequencer").default;

const runsAlone = (path) => /\brunAlone\(\)/.test(readFileSync(path, "utf8"));

class SpreadSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const alone = sorted.filter((test) => runsAlone(test.path));
    if (alone.length === 0 || alone.length === sorted.length) return sorted;
    const others = sorted.filter((test) => !alone.includes(test));
    // The i-th of n lone files goes in front of the others' ((i + 0.5) / n)-th part.
    const spread = [...others];
    alone.forEach((test, i) => spread.splice(Math.floor(((i + 0.5) / alone.length) * others.length) + i, 0, test));
    return spread;
  }
}

module.exports = SpreadSequencer;
