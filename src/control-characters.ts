// C0 controls (NUL included), DEL and C1 controls. They draw nothing, yet ESC and CSI rewrite a
// terminal that later prints the text (the CLI, a log tail), CR overwrites a line, NUL truncates C
// strings and Postgres refuses it in text (a 500 instead of a 400).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Multi-line text (a commit message, a description) keeps its line breaks and tabs.
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

export function hasControlCharacters(text: string, { multiline = false }: { multiline?: boolean } = {}): boolean {
  return (multiline ? CONTROL_BUT_LINES : CONTROL).test(text);
}
