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
