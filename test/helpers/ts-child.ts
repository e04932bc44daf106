import { resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");
const REGISTER_TS = resolve(ROOT, "scripts/register-ts.js");

/**
 * The arguments to `spawn(process.execPath, …)` that run a TypeScript file of this repository in a
 * Node process of its own (worker pools, an Octoplex to SIGKILL, an event writer). A young
 * generation of 1 MB (V8's default is 16 MB) keeps each such process about 70 MB smaller when it
 * serves a burst of requests, which keeps the suite under its memory budget
 * (`npm run bench:suite-memory`) while several of them run.
 */
export function tsChildArgs(script: string, ...args: string[]): string[] {
  return ["--max-semi-space-size=1", "-r", REGISTER_TS, resolve(ROOT, script), ...args];
}
