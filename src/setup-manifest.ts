import { ManifestCreation } from "probot/lib/manifest-creation.js";
import { developmentBaseUrl } from "./dev-env";

/**
 * app.yml names localhost:3000, but Octoplex signs in through `${BASE_URL}/auth/callback`, and on a
 * development machine BASE_URL follows PORT (dev-env.ts): a GitHub App created from app.yml as it
 * is could not sign anyone in on another port. The URLs the app registers follow BASE_URL instead,
 * and the webhook goes to Octoplex's route, since Probot's fallback (`${origin}/`) is not one.
 */
export function octoplexManifest(manifestJson: string, env: NodeJS.ProcessEnv): string {
  const manifest = JSON.parse(manifestJson) as Record<string, unknown>;
  const base = env.BASE_URL?.trim().replace(/\/+$/, "") || developmentBaseUrl(env);
  const hook = (manifest.hook_attributes ?? {}) as Record<string, unknown>;
  // A smee.io channel forwards to this machine; without one, GitHub must call Octoplex directly.
  const proxy = env.WEBHOOK_PROXY_URL?.trim();
  return JSON.stringify({
    ...manifest,
    hook_attributes: { ...hook, url: proxy || `${base}/api/github/webhooks` },
    callback_urls: [`${base}/auth/callback`],
    setup_url: `${base}/setup`,
  });
}

let manifestEnv: NodeJS.ProcessEnv = process.env;

/** Makes Probot's setup flow (`run` without credentials) register Octoplex's URLs. */
export function useOctoplexManifest(env: NodeJS.ProcessEnv = process.env): void {
  manifestEnv = env;
  const proto = ManifestCreation.prototype as ManifestCreation & { octoplex?: true };
  if (proto.octoplex) return;
  const original = proto.getManifest;
  proto.getManifest = function (this: ManifestCreation, ...args: Parameters<ManifestCreation["getManifest"]>) {
    return octoplexManifest(original.apply(this, args), manifestEnv);
  };
  proto.octoplex = true;
}
