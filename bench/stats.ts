// Figures and their formatting, shared by the benchmarks.

/** The nearest-rank percentile `p` (0–100) of `values`; NaN for none. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** p50 and p99 of `values`. */
export function p50p99(values: number[]): [number, number] {
  return [percentile(values, 50), percentile(values, 99)];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A formatter of milliseconds with `digits` decimals: formatMs(1)(12.34) is "12.3 ms". */
export const formatMs =
  (digits: number) =>
  (value: number): string =>
    `${value.toFixed(digits)} ms`;

/** "2.3×" */
export const ratio = (value: number, base: number, digits = 1) => `${(value / base).toFixed(digits)}×`;

/** "1.5 MB" */
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** "p50 12.3 ms p99 45.6 ms" */
export function describeP50p99(values: number[], format: (value: number) => string): string {
  const [p50, p99] = p50p99(values);
  return `p50 ${format(p50)} p99 ${format(p99)}`;
}

/** A table's figures: each right-aligned in `width`, two spaces apart. */
export function columns(cells: string[], width = 9): string {
  return cells.map((cell) => cell.padStart(width)).join("  ");
}
