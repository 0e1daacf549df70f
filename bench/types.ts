/** One measured figure of `deno task bench`. Ratios compare against a baseline measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** value / baseline.value (or the inverse for times, as the bench states in `target`). */
  ratio?: number;
  /** The target in words, e.g. ">= 0.5 of bare kafkajs" or "< 3 s". */
  target?: string;
  pass?: boolean;
}

/** The machine-readable line of one figure that `deno task bench` prints (one JSON object per line). */
export interface BenchLine {
  bench: string;
  value: number;
  unit: string;
  baseline: { name: string; value: number } | null;
  ratio: number | null;
  target: string | null;
  pass: boolean | null;
}

/** Shapes a figure as its {@link BenchLine}; `bench` is `<area>: <name>`. */
export function benchLine(r: BenchResult & { area?: string }): BenchLine {
  return {
    bench: r.area ? `${r.area}: ${r.name}` : r.name,
    value: r.value,
    unit: r.unit,
    baseline: r.baseline ?? null,
    ratio: r.ratio ?? null,
    target: r.target ?? null,
    pass: r.pass ?? null,
  };
}
