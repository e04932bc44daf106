import { isSafeReturnTo } from "../../../src/services/identity/return-to";

describe("isSafeReturnTo", () => {
  test.each([
    ["the root", "/"],
    ["a path with a query and a fragment", "/teams/7/connect?x=1#y"],
    // Browsers do not decode %09 before parsing: the path stays /%09/evil.example on this origin.
    ["an encoded tab before //", "/%09/evil.example"],
    ["encoded slashes", "/%2F%2Fevil.example"],
    ["an encoded backslash", "/%5Cevil.example"],
    ["a path of 2048 characters", `/${"a".repeat(2047)}`],
  ])("accepts %s: %j", (_what, value) => {
    expect(isSafeReturnTo(value)).toBe(true);
  });

  test.each([
    ["a protocol-relative URL", "//evil.example"],
    ["an absolute URL", "https://evil.example"],
    ["an absolute URL to this very origin", "http://localhost:3000/teams/7"],
    // Browsers read a backslash as a slash in http(s) URLs.
    ["slash backslash", "/\\evil.example"],
    ["two backslashes", "\\\\evil.example"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["an empty string", ""],
    ["a relative path", "teams/7"],
    ["a leading space", " /teams/7"],
    ["a path over 2048 characters", `/${"a".repeat(2048)}`],
    // Browsers strip literal tabs and newlines before parsing: "/\t/evil.example" is "//evil.example".
    ["a literal tab before //", "/\t/evil.example"],
    ["a literal newline before //", "/\n/evil.example"],
    ["a literal carriage return", "/teams/7\r\nSet-Cookie: x=1"],
    ["a literal tab inside", "/teams/\t7"],
    ["a literal newline inside", "/teams/7\n"],
    ["a NUL byte", "/teams/7\u0000"],
  ])("refuses %s: %j", (_what, value) => {
    expect(isSafeReturnTo(value)).toBe(false);
  });
});
