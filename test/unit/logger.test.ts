import { Writable } from "node:stream";
import { createLogger } from "../../src/logger";
import { newTokens } from "../helpers/github-oauth";
import { findSecrets } from "../helpers/secret-patterns";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger({ logLevel: "trace", logFormat: "json" }, stream), text: () => lines.join("") };
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
});
