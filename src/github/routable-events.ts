/**
 * GitHub's webhook event types a team may subscribe to: every type @octokit/webhooks knows (its
 * `emitterEventNames`, the types GitHub documents for apps), less those that are not about a
 * team's repositories:
 * - installation, installation_repositories, installation_target, github_app_authorization,
 *   marketplace_purchase: about the app and its installations; Octoplex keeps them itself
 *   (src/webhooks/installation.ts, marketplace-purchase.ts) and tells teams what they mean
 *   (team.installation.* and installation.* events);
 * - ping and meta: about the app's webhook itself (created, deleted), for no installation;
 * - security_advisory and sponsorship: GitHub-wide advisories and an account's sponsors, sent
 *   without an installation, so no link could route them.
 */
const KEPT_BY_OCTOPLEX = [
  "installation",
  "installation_repositories",
  "installation_target",
  "github_app_authorization",
  "marketplace_purchase",
  "ping",
  "meta",
  "security_advisory",
  "sponsorship",
];

/** The routable types, sorted. Required when asked: a process that never asks does not load @octokit/webhooks. */
export function routableEventNames(): string[] {
  return (require("@octokit/webhooks") as typeof import("@octokit/webhooks")).emitterEventNames
    .filter((name) => !name.includes(".") && !KEPT_BY_OCTOPLEX.includes(name))
    .sort();
}
