import type { RepositoryScope } from "../../repositories/link-scopes";
import type { LinkRepositoryChoices } from "../../services/teams/link-repository-choices";
import { html, Html } from "./html";

export type PickerNotice = "saved" | "connected" | "refreshed";

export interface PickerModel {
  teamId: number;
  csrf: string;
  login: string;
  q: string;
  choices: LinkRepositoryChoices;
  notice?: PickerNotice;
}

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** The link's scope in a few words, for its card. */
export function scopeSummary(scope: RepositoryScope): string {
  if (scope === "all") return "All repositories, now and later";
  return scope.length === 0 ? "No repositories yet" : count(scope.length, "repository", "repositories");
}

const NOTICES: Record<PickerNotice, string> = {
  saved: "Saved.",
  connected: "Connected with no repositories yet: tick the ones the team may use, then save.",
  refreshed: "The list now matches what GitHub lists.",
};

/** What the list leaves out, so nobody takes a capped list for the whole installation. */
function coverage(c: LinkRepositoryChoices, q: string): string {
  const shown = c.repositories.length;
  if (c.total === 0) return "";
  if (q && c.matching === 0) return `No repository name contains “${q}” (of ${count(c.total, "repository", "repositories")}).`;
  const of = q ? `${count(c.matching, "match", "matches")} for “${q}” among ${count(c.total, "repository", "repositories")}` : count(c.total, "repository", "repositories");
  if (shown === c.matching) return `${of}, all shown.`;
  return `Showing ${shown.toLocaleString("en-US")} of ${of}; ${count(c.matching - shown, "more is", "more are")} hidden: search to find ${c.matching - shown === 1 ? "it" : "them"}. Ticks you cannot see are kept.`;
}

/**
 * One link's repositories with checkboxes: a GET search that narrows the list on the server, and a
 * POST form (no script needed) whose `shown` field tells the server which boxes the person saw.
 */
export function repositoryPicker(m: PickerModel): Html {
  const c = m.choices;
  const selected = c.scope === "all" ? null : new Set(c.scope);
  const connect = `/teams/${m.teamId}/connect`;
  const list = c.repositories.length
    ? html`<ul class="repositories" aria-label="Repositories of ${m.login}">${c.repositories.map(
        (r) => html`<li><label class="choice"><input type="checkbox" name="repository" value="${r.id}"${selected?.has(r.id) ? html` checked` : ""}> ${r.fullName}${r.private ? html` <span class="meta">private</span>` : ""}${r.archived ? html` <span class="meta">archived</span>` : ""}</label></li>`,
      )}</ul>`
    : c.total === 0
      ? html`<p class="empty">No repositories of ${m.login} are known yet. They appear here once GitHub reports them, or ask GitHub below.</p>`
      : "";
  return html`<section class="picker" id="repositories-${c.installationId}" aria-labelledby="picker-heading">
<h2 id="picker-heading">Repositories of ${m.login}</h2>
${m.notice ? html`<p class="notice ok" role="status">${NOTICES[m.notice]}</p>` : ""}
<p class="meta">${c.scope === "all"
    ? "The team may use every repository of this account, now and later. Tick some and save to limit it to those."
    : `The team may use ${scopeSummary(c.scope).toLowerCase()} of this account.`}</p>
<form class="search" method="get" action="${connect}" role="search">
<input type="hidden" name="installation" value="${c.installationId}">
<label for="repository-search">Search ${m.login}'s repositories</label>
<input type="search" id="repository-search" name="q" value="${m.q}" maxlength="100" autocomplete="off">
<button type="submit">Search</button>${m.q ? html` <a class="button" href="${connect}?installation=${c.installationId}#repositories-${c.installationId}">Show all</a>` : ""}
</form>
<form method="post" action="${connect}/repositories">
<input type="hidden" name="csrf" value="${m.csrf}"><input type="hidden" name="installation_id" value="${c.installationId}">
<input type="hidden" name="q" value="${m.q}"><input type="hidden" name="shown" value="${c.repositories.map((r) => r.id).join(",")}">
${list}
<p class="meta">${coverage(c, m.q)}</p>
<p class="actions"><button type="submit" name="scope" value="selected" class="primary">Save ticked repositories</button>
<button type="submit" name="scope" value="all">Allow all repositories</button>
<a class="button" href="${connect}">Close</a></p>
</form>
<form class="inline" method="post" action="${connect}/repositories/refresh">
<input type="hidden" name="csrf" value="${m.csrf}"><input type="hidden" name="installation_id" value="${c.installationId}">
<p class="meta">A repository missing? <button type="submit">Ask GitHub for the list again</button></p>
</form>
</section>`;
}
