import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";

const manifest = load(readFileSync(join(__dirname, "../../app.yml"), "utf8")) as Record<string, unknown>;

describe("app.yml", () => {
  test("registers the URLs sign-in and installs come back to", () => {
    expect(manifest.callback_urls).toEqual([expect.stringMatching(/\/auth\/callback$/)]);
    expect(manifest.setup_url).toMatch(/\/setup$/);
    expect(manifest).toMatchObject({ setup_on_update: true, request_oauth_on_install: false, public: true });
  });

  test("asks for the least permissions the features need", () => {
    expect(manifest.default_permissions).toEqual({
      administration: "write",
      contents: "write",
      metadata: "read",
      members: "read",
    });
    expect(manifest.default_events).toContain("installation_target");
  });

  test("has no apostrophe in a value, which would break Probot's single-quoted setup form", () => {
    expect(JSON.stringify(manifest)).not.toContain("'");
  });
});
