import { newClassicInstallationToken, newInstallationToken } from "../fixtures/tokens";
import { findSecrets } from "../helpers/secret-patterns";

// The suite's log and database scans are only as good as these patterns: a leak they cannot see passes.
describe("findSecrets", () => {
  test.each([
    ["a new-format installation token (ghs_<app id>_<JWT>)", () => newInstallationToken()],
    ["a classic installation token", () => newClassicInstallationToken()],
    ["a fine-grained personal access token", () => `github_pat_11ABCDEFG0${"x1Y2z3".repeat(4)}_${"Q9w8E7r6".repeat(7)}`],
  ])("finds %s, in a JSON line and after an escaped line break", (_kind, token) => {
    const secret = token();
    expect(findSecrets(JSON.stringify({ msg: `refused ${secret}` }))).not.toEqual([]);
    expect(findSecrets(JSON.stringify({ msg: `refused\n${secret}` }))).not.toEqual([]);
  });

  test("finds what a redaction that stopped at the first dot leaves of a new-format token: its JWT payload and signature", () => {
    const token = newInstallationToken();
    const leftOver = `ghs_[redacted]${token.slice(token.indexOf("."))}`;
    expect(findSecrets(JSON.stringify({ msg: `refused ${leftOver}` })).map((f) => f.kind)).toEqual(["JWT payload and signature"]);
  });

  test("finds nothing in a redacted line", () => {
    expect(findSecrets(JSON.stringify({ msg: "refused ghs_[redacted] and opx_[redacted]. Try again." }))).toEqual([]);
  });
});
