import type { Installation } from "../../repositories/installations";
import type { LinkedInstallation, ReachableInstallation } from "../../services/teams/links";
import { html, Html } from "./html";
import { layout } from "./layout";
import { PickerModel, repositoryPicker, scopeSummary } from "./repository-picker";

export interface ConnectPageModel {
  team: { id: number; name: string };
  user: { login: string };
  csrf: string;
  linked: LinkedInstallation[];
  /** Null when GitHub could not be asked for the person's installations (see `reauthorize`). */
  reachable: ReachableInstallation[] | null;
  installUrl: string | null;
  /** The person's GitHub grant is gone: offer to reconnect instead of listing. */
  reauthorize: string | null;
  canManage: boolean;
  /** The repository picker of one link, when the person opened it (?installation=…). */
  picker?: Omit<PickerModel, "teamId" | "csrf">;
}

function account(a: Installation["account"], extra: Html | string = "") {
  const avatar = a.avatarUrl
    ? html`<img src="${a.avatarUrl}" alt="" width="40" height="40">`
    : html`<span class="avatar" aria-hidden="true">${a.login.slice(0, 1).toUpperCase()}</span>`;
  return html`${avatar}
<div class="who"><strong>${a.login}</strong> <span class="meta">${a.type}</span>${extra}</div>`;
}

function selection(s: string) {
  return html`<div class="meta">The app on GitHub: ${s === "all" ? "all repositories" : "selected repositories"}</div>`;
}

/** Which of the account's repositories the team may use, and (for its admins) a way to change it. */
function teamScope(m: ConnectPageModel, l: LinkedInstallation) {
  const choose = `/teams/${m.team.id}/connect?installation=${l.installationId}#repositories-${l.installationId}`;
  return html`<div class="meta scope-line">This team: ${scopeSummary(l.repositories)}${m.canManage
    ? html` <a href="${choose}" aria-label="Choose repositories of ${l.account.login}">Choose repositories</a>`
    : ""}</div>`;
}

/** The team's GitHub connections: linked installations, reachable ones to connect, install on a new account. */
export function connectPage(m: ConnectPageModel): string {
  const action = (verb: "link" | "unlink") => `/teams/${m.team.id}/connect/${verb}`;
  const linked = m.linked.length
    ? html`<ul class="cards" aria-label="Linked installations">${m.linked.map(
        (l) => html`<li data-installation-id="${l.installationId}">
${account(l.account, html`${l.suspended ? html`<span class="badge warn">Suspended</span>` : ""}${selection(l.repositorySelection)}${teamScope(m, l)}`)}
${m.canManage
  ? html`<form class="inline" method="post" action="${action("unlink")}">
<input type="hidden" name="csrf" value="${m.csrf}"><input type="hidden" name="installation_id" value="${l.installationId}">
<button type="submit" class="danger" aria-label="Unlink ${l.account.login}">Unlink</button></form>`
  : ""}
</li>`,
      )}</ul>`
    : html`<p class="empty">No GitHub account is connected to this team yet.</p>`;

  const notLinked = (m.reachable ?? []).filter((r) => !r.linked);
  const reachable = m.reauthorize
    ? html`<div class="notice" role="alert"><p>Your GitHub authorization has expired or was revoked.</p>
<a class="button primary" href="${m.reauthorize}">Reconnect GitHub</a></div>`
    : notLinked.length
      ? html`<ul class="cards" aria-label="Installations you can connect">${notLinked.map(
          (r) => html`<li data-installation-id="${r.installationId}">
${account(r.account, html`${r.suspended ? html`<span class="badge warn">Suspended</span>` : ""}${selection(r.repositorySelection)}${r.linkable ? "" : html`<div class="meta">Only an organization admin can connect it</div>`}`)}
${m.canManage && r.linkable
  ? html`<form class="inline actions" method="post" action="${action("link")}">
<input type="hidden" name="csrf" value="${m.csrf}"><input type="hidden" name="installation_id" value="${r.installationId}">
<button type="submit" class="primary" name="repositories" value="all" aria-label="Connect ${r.account.login}">Connect</button>
<button type="submit" name="repositories" value="selected" aria-label="Connect some repositories of ${r.account.login}">Connect some repositories</button></form>`
  : ""}
</li>`,
        )}</ul>`
      : html`<p class="empty">No other installation of the app is reachable with your GitHub account.</p>`;

  return layout(
    `Connect GitHub · ${m.team.name}`,
    html`<h1>Connect GitHub to ${m.team.name}</h1>
<p class="lead">A GitHub account connected here can be used by everyone in the team. One installation can serve several teams.</p>
<section aria-labelledby="linked-heading"><h2 id="linked-heading">Connected</h2>${linked}
${m.picker ? repositoryPicker({ ...m.picker, teamId: m.team.id, csrf: m.csrf }) : ""}</section>
<section aria-labelledby="reachable-heading"><h2 id="reachable-heading">Available to connect</h2>${reachable}</section>
<section aria-labelledby="install-heading"><h2 id="install-heading">Another account</h2>
${m.installUrl && m.canManage
  ? html`<a class="button" href="${m.installUrl}">Install on a new account</a>`
  : html`<p class="empty">Ask a team admin to install the app on another account.</p>`}
</section>`,
    m.user,
  );
}
