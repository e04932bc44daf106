import { TEST_CLIENT_SECRET, TEST_SESSION_SECRET } from "./config";

const PATTERNS: Array<[string, RegExp]> = [
  ["GitHub token", /\bgh[oprsu]_[A-Za-z0-9]{20,}/g],
  ["API key", /\bopx_[A-Za-z0-9_-]{20,}/g],
  ["client secret", new RegExp(TEST_CLIENT_SECRET, "g")],
  ["session secret", new RegExp(TEST_SESSION_SECRET, "g")],
  ["private key", /-----BEGIN (RSA )?PRIVATE KEY-----/g],
];

/** Every secret-shaped string in `text`, with a short excerpt that does not reveal it. */
export function findSecrets(text: string): Array<{ kind: string; excerpt: string }> {
  const found: Array<{ kind: string; excerpt: string }> = [];
  for (const [kind, pattern] of PATTERNS) {
    for (const match of text.matchAll(pattern)) found.push({ kind, excerpt: match[0].slice(0, 6) });
  }
  return found;
}
