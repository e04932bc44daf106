import { createHash } from "node:crypto";
import { Html, html } from "./html";

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #fff; --card: #f6f8fa; --accent: #1f883d; --danger: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #f0f6fc; --muted: #9198a1; --line: #3d444d; --bg: #0d1117; --card: #151b23; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { border-bottom: 1px solid var(--line); padding: 12px 24px; display: flex; justify-content: space-between; align-items: center; }
header .brand { font-weight: 700; color: inherit; text-decoration: none; }
main { max-width: 760px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 32px 0 12px; }
p.lead { color: var(--muted); margin-top: 0; }
ul.cards { list-style: none; padding: 0; margin: 0; display: grid; gap: 8px; }
ul.cards li { display: flex; align-items: center; gap: 12px; padding: 12px; border: 1px solid var(--line); border-radius: 8px; background: var(--card); }
ul.cards img, .avatar { width: 40px; height: 40px; border-radius: 6px; }
.avatar { display: inline-flex; align-items: center; justify-content: center; background: var(--line); font-weight: 700; }
.who { flex: 1; }
.who .meta { color: var(--muted); font-size: .875rem; }
.badge { display: inline-block; font-size: .75rem; padding: 0 8px; border-radius: 999px; border: 1px solid var(--line); margin-left: 6px; }
.badge.warn { color: var(--danger); border-color: var(--danger); }
button, .button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); cursor: pointer; text-decoration: none; display: inline-block; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--danger); }
button:focus-visible, .button:focus-visible, input:focus-visible, select:focus-visible { outline: 2px solid #0969da; outline-offset: 2px; }
form.inline { margin: 0; }
.empty { color: var(--muted); padding: 12px; border: 1px dashed var(--line); border-radius: 8px; }
.notice { padding: 12px; border-radius: 8px; border: 1px solid var(--danger); margin: 16px 0; }
label { display: block; margin: 12px 0 4px; font-weight: 600; }
.notice.ok { border-color: var(--accent); }
.picker { margin-top: 16px; padding: 16px; border: 1px solid var(--line); border-radius: 8px; }
.picker h2 { margin-top: 0; }
.picker .meta { color: var(--muted); font-size: .875rem; }
form.search { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
form.search label { flex-basis: 100%; margin: 0; }
ul.repositories { list-style: none; padding: 0; margin: 12px 0; border-top: 1px solid var(--line); }
ul.repositories li { border-bottom: 1px solid var(--line); }
label.choice { display: flex; gap: 8px; align-items: center; margin: 0; padding: 6px 0; font-weight: 400; cursor: pointer; }
fieldset { border: 0; padding: 0; margin: 12px 0; }
legend { font-weight: 600; padding: 0; margin-bottom: 4px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; }
.scope-line { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; }
input[type=text], input[type=search], select { font: inherit; padding: 6px 8px; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); width: 100%; max-width: 360px; }
`;

/** The CSP source that lets the one inline <style> apply: its hash, not 'unsafe-inline'. */
export const STYLE_SOURCE = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;

export function layout(title: string, body: Html, user?: { login: string }): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Octoplex</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
<header><a class="brand" href="/">Octoplex</a>${user ? html`<span>Signed in as <strong>${user.login}</strong></span>` : ""}</header>
<main>
${body}
</main>
</body>
</html>
`.toString();
}

export function errorPage(status: number, message: string, user?: { login: string }, back = "/"): string {
  return layout(
    "Something went wrong",
    html`<h1>${status === 403 ? "Not allowed" : status === 404 ? "Not found" : "Something went wrong"}</h1>
<p class="lead" role="alert">${message}</p>
<p><a class="button" href="${back}">Back</a></p>`,
    user,
  );
}
