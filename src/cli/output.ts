/** Where a command writes: injected so tests read what a user would see. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  out(line: string): void;
  err(line: string): void;
  /** Progress lines overwrite each other on a terminal and are left out elsewhere. */
  progress?(line: string): void;
}

export function formatTable(headers: string[], rows: Array<Array<string | number | null>>): string {
  if (rows.length === 0) return "(none)";
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null ? "-" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

export function terminalProgress(stream: NodeJS.WriteStream): ((line: string) => void) | undefined {
  if (!stream.isTTY) return undefined;
  return (line) => stream.write(`\r\x1b[2K${line}`);
}
