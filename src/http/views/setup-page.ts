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
<p><button type="submit" class="primary">Connect</button></p>
</form>`,
    m.user,
  );
}
