/**
 * GitHub tokens (ghp_ gho_ ghu_ ghr_ ghs_ github_pat_) and Octoplex API keys (opx_), wherever they
 * appear in text. Since 2026-04 installation tokens are `ghs_<app id>_<JWT>` (about 520 characters):
 * the match runs on through base64url characters and the JWT's dots, or the payload and signature
 * would stay behind. A dot counts only when a token character follows, so a sentence's full stop
 * stays. No word boundary in front: in a JSON line a token after a line break reads `\nghs_…`.
 */
const TOKEN_SHAPED = /(gh[oprsu]_|github_pat_|opx_)(?:[A-Za-z0-9_-]|\.(?=[A-Za-z0-9_-])){20,}/g;

/**
 * A bare JWT (the app's own `bearer eyJ…` to GitHub, valid for minutes): an upstream error's text
 * may quote the request's headers. Header and payload are base64url JSON, so both start with eyJ.
 */
const JWT_SHAPED = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;

/** `text` with every token-shaped string cut down to its prefix and `[redacted]`, and every JWT replaced. */
export function redactTokens(text: string): string {
  return text.replace(TOKEN_SHAPED, "$1[redacted]").replace(JWT_SHAPED, "[redacted JWT]");
}
