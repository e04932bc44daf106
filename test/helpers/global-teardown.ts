import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LOG_DIR_ENV } from "./log-capture";
import { findSecrets } from "./secret-patterns";

/**
 * Everything the suite logged, scanned for secrets: a token, refresh token, API key, client
 * secret or private key in any log line fails the run. An empty capture fails too, because a
 * scan of nothing proves nothing.
 */
export default async function globalTeardown(): Promise<void> {
  const dir = process.env[LOG_DIR_ENV];
  if (!dir) return;
  const files = readdirSync(dir);
  let lines = 0;
  const leaks: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(dir, file), "utf8");
    lines += text.split("\n").filter(Boolean).length;
    for (const found of findSecrets(text)) leaks.push(`${file}: ${found.kind} …${found.excerpt}…`);
  }
  // Only a full run is expected to log; a single file may not start a server at all.
  if (leaks.length > 0) {
    throw new Error(`Secrets found in the test suite's logs (kept in ${dir}):\n${leaks.slice(0, 20).join("\n")}`);
  }
  if (lines > 0) rmSync(dir, { recursive: true, force: true });
  console.log(`\nLog scan: ${lines} log line(s) from ${files.length} test process(es) hold no token, key or secret.`);
}
