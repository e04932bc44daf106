import { html } from "./html";
import { layout } from "./layout";

export function signedOutPage(): string {
  return layout(
    "Sign in",
    html`<h1>Octoplex</h1>
<p class="lead">Connect your GitHub accounts to your teams.</p>
<p><a class="button primary" href="/auth/login?return_to=%2F">Sign in with GitHub</a></p>`,
  );
}

export function homePage(m: { user: { login: string }; teams: Array<{ id: number; name: string; role: string }>; csrf: string }): string {
  return layout(
    "Your teams",
    html`<h1>Your teams</h1>
${m.teams.length
  ? html`<ul class="cards" aria-label="Your teams">${m.teams.map(
      (t) => html`<li><div class="who"><strong>${t.name}</strong> <span class="meta">${t.role}</span></div>
<a class="button" href="/teams/${t.id}/connect" aria-label="Connect GitHub to ${t.name}">Connect GitHub</a></li>`,
    )}</ul>`
  : html`<p class="empty">You are not in a team yet.</p>`}
<h2>New team</h2>
<form method="post" action="/teams">
<input type="hidden" name="csrf" value="${m.csrf}">
<label for="name">Team name</label>
<input type="text" id="name" name="name" required maxlength="100" autocomplete="off">
<p><button type="submit" class="primary">Create team</button></p>
</form>
<form method="post" action="/auth/logout"><button type="submit">Sign out</button></form>`,
    m.user,
  );
}
