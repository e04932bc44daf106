import { Writable } from "node:stream";
import { createLogger, defaultDestination } from "../../src/logger";
import { newClassicInstallationToken, newInstallationToken } from "../fixtures/tokens";
import { newTokens } from "../helpers/github-oauth";
import { findSecrets } from "../helpers/secret-patterns";

function capture(format: "json" | "pretty" = "json") {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const config = { logLevel: "trace", logFormat: format } as const;
  // The pretty format through the app's own pino-pretty settings, into this stream instead of stdout.
  const log = createLogger(config, format === "pretty" ? defaultDestination("pretty", stream) : stream);
  return { log, text: () => lines.join("") };
}

/** Every kind of token Octoplex may meet, each unique, in both installation-token formats. */
function everyToken(): Record<string, string> {
  const { token, refreshToken } = newTokens();
  const classic = (prefix: string) => `${prefix}${"Ab1".repeat(12)}`;
  return {
    "installation token (ghs_<app id>_<JWT>)": newInstallationToken(),
    "installation token (classic)": newClassicInstallationToken(),
    "user token": token,
    "refresh token": refreshToken,
    "OAuth token": classic("gho_"),
    "personal access token": classic("ghp_"),
    "fine-grained personal access token": `github_pat_11ABCDEFG0${"x1Y2z3".repeat(4)}_${"Q9w8E7r6".repeat(7)}abc`,
    "API key": `opx_${"k-_9".repeat(11)}`,
    // What an upstream error may quote from the request headers: `authorization: bearer <the app's JWT>`.
    "the app's JWT": newInstallationToken().replace(/^ghs_\d+_/, ""),
  };
}

/** Any piece of `secret` longer than 12 characters that made it into `text`: a JWT's payload or signature, say. */
function leftOf(secret: string, text: string): string[] {
  const body = secret.replace(/^(gh[oprsu]_|github_pat_|opx_)/, "");
  return body.split(/[._]/).filter((part) => part.length > 12 && text.includes(part));
}

describe("createLogger", () => {
  test("redacts tokens, codes, cookies and the bodies of failed GitHub requests", () => {
    const { log, text } = capture();
    const { token, refreshToken } = newTokens();
    log.info({ token, refreshToken, code: "the-code", auth: { token } }, "tokens in fields");
    log.info({ req: { headers: { authorization: `token ${token}`, cookie: "octoplex_session=abc" } } }, "request");
    log.error({ err: Object.assign(new Error("boom"), { request: { body: `refresh_token=${refreshToken}` }, response: { data: { access_token: token } } }) }, "failed");
    expect(findSecrets(text())).toEqual([]);
    expect(text()).not.toContain("the-code");
    expect(text()).not.toContain("octoplex_session=abc");
    expect(text()).toContain("[redacted]");
  });

  test("a new-format installation token (ghs_<app id>_<JWT>, ~520 characters) is a real base64url JWT behind its app id", () => {
    const token = newInstallationToken(12345);
    const [, appId, jwt] = /^ghs_(\d+)_(.+)$/.exec(token)!;
    const [header, payload, signature] = jwt.split(".");
    expect(appId).toBe("12345");
    expect(token.length).toBeGreaterThanOrEqual(500);
    expect(JSON.parse(Buffer.from(header, "base64url").toString("utf8"))).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(JSON.parse(Buffer.from(payload, "base64url").toString("utf8"))).toMatchObject({ app: 12345 });
    expect(Buffer.from(signature, "base64url")).toHaveLength(256);
    // GitHub's recommended pattern for telling one apart.
    expect(token).toMatch(/^ghs_[A-Za-z0-9._-]{36,}$/);
  });

  describe.each(["json", "pretty"] as const)("in the %s format", (format) => {
    test.each(Object.entries(everyToken()))("redacts the whole %s in fields, the message, and an error's message and stack", (_kind, secret) => {
      const { log, text } = capture(format);
      log.info({ token: secret, access_token: secret, nested: { access_token: secret } }, "token in fields");
      log.warn(`GitHub said: Bad credentials for ${secret}. Mint another.`);
      log.error({ err: new Error(`upstream refused\n${secret}\nin line two`) }, "request failed");
      log.info({ detail: `Authorization: token ${secret}`, url: `https://x-access-token:${secret}@github.com/acme/widgets.git` }, "free text in fields");

      const out = text();
      expect(out).toContain("request failed");
      expect(out).not.toContain(secret);
      expect(leftOf(secret, out)).toEqual([]);
      expect(findSecrets(out)).toEqual([]);
      const prefix = /^(gh[oprsu]_|github_pat_|opx_)/.exec(secret);
      expect(out).toContain(prefix ? `${prefix[1]}[redacted]` : "[redacted JWT]");
      // Only the token goes: the sentence around it stays readable.
      expect(out).toMatch(/\[redacted( JWT)?\]\. Mint another\./);
      expect(out).toMatch(/\[redacted( JWT)?\]@github\.com\/acme\/widgets\.git/);
    });
  });
});
