/** Plain-text tables for the CLI's human output. */

/** Renders rows as an aligned table with upper-case headers; numbers are right-aligned. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cell = (
    v: unknown,
  ) => (v === null || v === undefined ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v));
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const numeric = columns.map((c) =>
    rows.length > 0 && rows.every((r) => typeof r[c] === "number" || r[c] == null)
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) =>
    vals.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join("\n");
}
