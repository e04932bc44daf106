import type { InstallationSnapshot } from "../../repositories/installations";
import type { Membership } from "../../repositories/teams";
import { html } from "./html";
import { layout } from "./layout";

/** After an install that started on GitHub: which of the person's teams gets it. */
export function pickTeamPage(m: { installation: InstallationSnapshot; teams: Membership[]; csrf: string; user: { login: string } }): string {
  const a = m.installation.account;
  return layout(
    "Choose a team",
    html`<h1>Connect ${a.login} to a team</h1>
<p class="lead">The app is installed on <strong>${a.login}</strong> (${a.type}). Choose the team that should use it.</p>
<form method="post" action="/setup/link">
<input type="hidden" name="csrf" value="${m.csrf}">
<input type="hidden" name="installation_id" value="${m.installation.id}">
${m.teams.length
  ? html`<label for="team_id">Team</label>
<select id="team_id" name="team_id">${m.teams.map((t) => html`<option value="${t.id}">${t.name}</option>`)}
<option value="">A new team…</option></select>`
  : html`<input type="hidden" name="team_id" value="">`}
<label for="new_team_name">${m.teams.length ? "Or name a new team" : "Name your new team"}</label>
<input type="text" id="new_team_name" name="new_team_name" maxlength="100" autocomplete="off">
<fieldset><legend>Repositories the team may use</legend>
<label class="choice"><input type="radio" name="repositories" value="all" checked> All that the app reaches on ${a.login}, now and later</label>
<label class="choice"><input type="radio" name="repositories" value="selected"> Only the ones I choose next</label>
</fieldset>
<p><button type="submit" class="primary">Connect</button></p>
</form>`,
    m.user,
  );
}

/** After a member asked an organization's owners to approve the install. */
export function requestSentPage(user: { login: string }): string {
  return layout(
    "Install requested",
    html`<h1>Install requested</h1>
<p class="lead">GitHub sent your request to the organization's owners. Once one of them approves it, the installation appears on your team's connect page, ready to connect.</p>
<p><a class="button" href="/">Back to your teams</a></p>`,
    user,
  );
}
