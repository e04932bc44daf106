import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { ManifestCreation } from "probot/lib/manifest-creation.js";
import { routableEventNames } from "../../src/github/routable-events";
import { useOctoplexManifest } from "../../src/setup-manifest";

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
      pull_requests: "read",
    });
    expect(manifest.default_events).toContain("installation_target");
  });

  test("subscribes the events a deploy platform's teams need, each a type teams may subscribe to", () => {
    const routed = ["push", "pull_request", "release", "create", "delete", "repository"];
    expect(manifest.default_events).toEqual(expect.arrayContaining(routed));
    for (const event of manifest.default_events as string[]) {
      if (event !== "installation_target") expect(routableEventNames()).toContain(event);
    }
  });

  test("has no apostrophe in a value, which would break Probot's single-quoted setup form", () => {
    expect(JSON.stringify(manifest)).not.toContain("'");
  });
});

describe("the manifest Probot's setup flow sends to GitHub", () => {
  // Probot's own class, as its setup page calls it: the origin is the one the browser opened.
  function manifestSent(env: NodeJS.ProcessEnv, requestOrigin: string) {
    useOctoplexManifest(env);
    const creation = new ManifestCreation();
    return JSON.parse(creation.getManifest(creation.pkg, requestOrigin)) as Record<string, any>;
  }
  const proxy = process.env.WEBHOOK_PROXY_URL;
  beforeEach(() => delete process.env.WEBHOOK_PROXY_URL);
  afterAll(() => (proxy === undefined ? delete process.env.WEBHOOK_PROXY_URL : (process.env.WEBHOOK_PROXY_URL = proxy)));

  test("on PORT=3300 registers sign-in, setup and webhooks on port 3300, where sign-in sends people", () => {
    const sent = manifestSent({ PORT: "3300" }, "http://localhost:3300");
    expect(sent.callback_urls).toEqual(["http://localhost:3300/auth/callback"]);
    expect(sent.setup_url).toBe("http://localhost:3300/setup");
    expect(sent.hook_attributes.url).toBe("http://localhost:3300/api/github/webhooks");
    // GitHub sends the browser back to the running setup page, whatever BASE_URL says.
    expect(sent.redirect_url).toBe("http://localhost:3300/probot/setup");
  });

  test("follows BASE_URL when it is set", () => {
    const sent = manifestSent({ PORT: "3300", BASE_URL: "https://octoplex.example.com/" }, "http://localhost:3300");
    expect(sent.callback_urls).toEqual(["https://octoplex.example.com/auth/callback"]);
    expect(sent.setup_url).toBe("https://octoplex.example.com/setup");
    expect(sent.hook_attributes.url).toBe("https://octoplex.example.com/api/github/webhooks");
  });

  test("keeps the smee.io channel as the webhook URL when Probot could create one", () => {
    process.env.WEBHOOK_PROXY_URL = "https://smee.io/abc123";
    const sent = manifestSent({ PORT: "3000", WEBHOOK_PROXY_URL: "https://smee.io/abc123" }, "http://localhost:3000");
    expect(sent.hook_attributes.url).toBe("https://smee.io/abc123");
    expect(sent.callback_urls).toEqual(["http://localhost:3000/auth/callback"]);
  });

  test("keeps everything else app.yml says", () => {
    const sent = manifestSent({}, "http://localhost:3000");
    expect(sent).toMatchObject({ name: manifest.name, default_permissions: manifest.default_permissions, default_events: manifest.default_events });
  });
});
