/** Where a command writes: injected so tests read what a user would see. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  out(line: string): void;
  err(line: string): void;
  /** Progress lines overwrite each other on a terminal and are left out elsewhere. */
  progress?(line: string): void;
}

// C0 controls, DEL and C1: a name stored by anyone (a team, an account login, an error from
// GitHub) could otherwise move the cursor, erase lines or retitle the operator's terminal.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

// \x1b for C0, \u009b for DEL and C1: the latter is also a valid JSON escape, so a JSON document
// passed through `printable` stays JSON (JSON.stringify already escapes C0 but not DEL or C1).
const escapeControl = (c: string) => {
  const code = c.charCodeAt(0);
  return code < 0x20 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
};

/** Text safe to print on a terminal: every control character shown as a visible escape. */
export function printable(text: string, { keepNewlines = false }: { keepNewlines?: boolean } = {}): string {
  return text.replace(keepNewlines ? CONTROL_BUT_NEWLINE : CONTROL, escapeControl);
}

/**
 * `io` whose every line is made printable before it is written: the one place all of a
 * command's output passes, its tables, messages, JSON and commander's own usage errors.
 * Newlines separate lines; inside a value they are escaped by formatTable beforehand.
 */
export function printableIo(io: CliIo): CliIo {
  return {
    ...io,
    out: (line) => io.out(printable(line, { keepNewlines: true })),
    err: (line) => io.err(printable(line, { keepNewlines: true })),
    progress: io.progress && ((line) => io.progress!(printable(line))),
  };
}

export function formatTable(headers: string[], rows: Array<Array<string | number | null>>): string {
  if (rows.length === 0) return "(none)";
  // A newline inside a value would otherwise forge a row of its own.
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null ? "-" : printable(String(c)))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

export function terminalProgress(stream: NodeJS.WriteStream): ((line: string) => void) | undefined {
  if (!stream.isTTY) return undefined;
  return (line) => stream.write(`\r\x1b[2K${line}`);
}
