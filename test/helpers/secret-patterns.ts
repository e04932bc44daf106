import { TEST_CLIENT_SECRET, TEST_SESSION_SECRET } from "./config";

// No word boundary in front: in a JSON line a token after a line break reads `\nghs_…`.
const PATTERNS: Array<[string, RegExp]> = [
  // Classic tokens, and installation tokens since 2026-04: `ghs_<app id>_<JWT>`, about 520 characters with dots.
  ["GitHub token", /(?:gh[oprsu]_|github_pat_)[A-Za-z0-9_.-]{20,}/g],
  // What a redaction that stopped at the first dot leaves of a new token (or any JWT): its payload and signature.
  ["JWT payload and signature", /\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/g],
  ["API key", /opx_[A-Za-z0-9_-]{20,}/g],
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
