/**
 * `deno task bench [area ...]`: runs every `bench/<area>.ts` that exports `run(): Promise<BenchResult[]>`,
 * prints one table (figure, baseline, ratio, target, pass), then one JSON line per figure
 * (`{"bench", "value", "unit", "baseline", "ratio", "target", "pass"}`), and writes `bench/out/results.json`.
 * Machines are shared and noisy: read the ratios, not the absolute figures.
 */
import { benchLine, type BenchResult } from "./types.ts";

const dir = new URL(".", import.meta.url).pathname;
const wanted = new Set(Deno.args);
const areas: string[] = [];
for await (const e of Deno.readDir(dir)) {
  if (!e.isFile || !e.name.endsWith(".ts") || e.name.endsWith("_test.ts")) continue;
  const area = e.name.replace(/\.ts$/, "");
  if (["main", "types", "kafka_baseline"].includes(area) || area.startsWith("_")) continue;
  if (wanted.size && !wanted.has(area)) continue;
  areas.push(area);
}
areas.sort();

const fmt = (n: number) =>
  Math.abs(n) >= 1000 ? Math.round(n).toLocaleString("en-US") : Number(n.toPrecision(4)).toString();
const all: (BenchResult & { area: string })[] = [];
let failures = 0;
for (const area of areas) {
  const mod = await import(`${dir}${area}.ts`);
  if (typeof mod.run !== "function") continue;
  console.error(`[bench] ${area} ...`);
  const t0 = performance.now();
  try {
    const results: BenchResult[] = await mod.run();
    for (const r of results) all.push({ area, ...r });
    console.error(`[bench] ${area} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    failures++;
    console.error(`[bench] ${area} FAILED: ${(err as Error).stack ?? err}`);
  }
}

const rows = all.map((r) => [
  r.area,
  r.name,
  `${fmt(r.value)} ${r.unit}`,
  r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)}` : "",
  r.ratio !== undefined ? r.ratio.toFixed(2) : "",
  r.target ?? "",
  r.pass === undefined ? "" : r.pass ? "PASS" : "MISS",
]);
const head = ["area", "measure", "value", "baseline (same run)", "ratio", "target", ""];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
console.log(line(head));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
// One JSON line per figure, for scripts: `deno task bench | grep '^{"bench"'`.
console.log("");
for (const r of all) console.log(JSON.stringify(benchLine(r)));
await Deno.mkdir(`${dir}out`, { recursive: true });
await Deno.writeTextFile(`${dir}out/results.json`, JSON.stringify(all, null, 2));
if (failures) Deno.exit(1);
