/**
 * The `lzsync-policy-scores` processor: each policy task counts passed / evaluated / open violations over
 * its own partition's assets and forwards them per scope to `lz.compliance.score_parts.v1` (key
 * `<scope>|<partition>`); this processor (one task: the parts topic has one partition) keeps every task's
 * part per scope and forwards their sum to `lz.compliance.scores.v1`, in the shape the policy processor
 * emitted when it ran as a single task. A scope with nothing left in any part is removed (a null), except
 * `overall`, which is always shown.
 */
import type { InputRecord, Processor, ProcessorContext } from "../../pipeline/processor/types.ts";
import { type ComplianceScore, type ScorePart, SCORES_TOPIC } from "../../schemas/compliance.ts";

/** Store name (persisted contract): scope → the counters of each policy task, by partition. */
export const STORE_PARTS = "parts";

/** One task's counters of a scope, as stored. */
export interface StoredPart {
  passed: number;
  evaluated: number;
  open: number;
  at: string;
}

/** The score of `scope` from its parts; null when nothing is left (never for `overall`). */
export function sumParts(scope: string, parts: Record<string, StoredPart>): ComplianceScore | null {
  let passed = 0, evaluated = 0, open = 0, at = "";
  for (const p of Object.values(parts)) {
    passed += p.passed;
    evaluated += p.evaluated;
    open += p.open;
    if (p.at > at) at = p.at;
  }
  if (scope !== "overall" && evaluated === 0 && open === 0) return null;
  const i = scope.indexOf(":");
  return {
    scope,
    kind: (i < 0 ? "overall" : scope.slice(0, i)) as ComplianceScore["kind"],
    name: i < 0 ? "overall" : scope.slice(i + 1),
    passed,
    evaluated,
    score: evaluated ? Math.round((10000 * passed) / evaluated) / 100 : null,
    open_violations: open,
    updated_at: at || new Date(0).toISOString(),
  };
}

/** Creates the processor. */
export function createScoreTotalsProcessor(): Processor<unknown> {
  return {
    process(rec: InputRecord<unknown>, ctx: ProcessorContext) {
      const key = rec.key ?? "";
      const bar = key.lastIndexOf("|");
      if (bar < 0) return;
      const scope = key.slice(0, bar);
      const partition = key.slice(bar + 1);
      const v = rec.value as ScorePart | null;
      const store = ctx.store<Record<string, StoredPart>>(STORE_PARTS);
      const parts = { ...(store.get(scope) ?? {}) };
      if (v === null) delete parts[partition];
      else {parts[partition] = {
          passed: v.passed,
          evaluated: v.evaluated,
          open: v.open_violations,
          at: v.updated_at,
        };}
      const score = sumParts(scope, parts);
      if (Object.keys(parts).length) store.put(scope, parts);
      else store.delete(scope);
      ctx.forward(SCORES_TOPIC.name, scope, score);
    },
  };
}
