/**
 * Compliance topics of `processors/policy/`:
 * - `lz.compliance.evaluations.v1` — per asset, the latest pass/fail of every rule that applies to it, so a
 *   score is passed / evaluated; a tombstone when the asset is deleted or no rule applies any more.
 * - `lz.compliance.scores.v1` — passed / evaluated overall, per project and per rule.
 * - `lz.compliance.score_parts.v1` — the same counters of one policy task (its partition's assets), summed
 *   into `lz.compliance.scores.v1` by the `lzsync-policy-scores` topology.
 * - `lz.compliance.governance.v1` — governance rules read from the Landing Zone's synced `pmo.yaml`.
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

const DateTime = () => Type.String({ format: "date-time" });

/** The latest results of every rule that applies to one asset (one record per asset, key = asset name). */
export const Evaluation = Type.Object({
  asset_name: Type.String(),
  asset_type: Type.String(),
  project: Type.Union([Type.String(), Type.Null()]),
  results: Type.Array(Type.Object({
    rule_id: Type.String(),
    passed: Type.Boolean(),
  }, { additionalProperties: false })),
  passed: Type.Integer({ minimum: 0 }),
  evaluated: Type.Integer({ minimum: 0 }),
  not_evaluated: Type.Optional(Type.Array(Type.String(), {
    description:
      "rules that apply but could not be evaluated (the data they need is missing): not in the score",
  })),
  evaluated_at: DateTime(),
}, { additionalProperties: false });
export type Evaluation = Static<typeof Evaluation>;

export const EVALUATIONS_TOPIC = defineTopic({
  name: "lz.compliance.evaluations.v1",
  schema: Evaluation,
  compacted: true,
  partitions: 1,
  keyed: true,
  key: "asset name",
  description:
    "Latest pass/fail of every rule on each asset it applies to (tombstone when the asset is gone).",
});

export const ComplianceScore = Type.Object({
  scope: Type.String({ description: "overall, project:<id> or rule:<id>; the record key" }),
  kind: Type.Union([Type.Literal("overall"), Type.Literal("project"), Type.Literal("rule")]),
  name: Type.String({ description: "project id or rule id; 'overall' for the overall score" }),
  passed: Type.Integer({ minimum: 0 }),
  evaluated: Type.Integer({ minimum: 0 }),
  score: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()], {
    description: "100 * passed / evaluated, two decimals; null when nothing was evaluated",
  }),
  open_violations: Type.Integer({ minimum: 0 }),
  updated_at: DateTime(),
}, { additionalProperties: false });
export type ComplianceScore = Static<typeof ComplianceScore>;

export const SCORES_TOPIC = defineTopic({
  name: "lz.compliance.scores.v1",
  schema: ComplianceScore,
  compacted: true,
  partitions: 1,
  key: "scope",
  description: "Compliance score (passed/evaluated) overall, per project and per rule.",
});

/** One policy task's counters of one scope (key `<scope>|<partition>`): summed over tasks into the score. */
export const ScorePart = Type.Object({
  scope: Type.String(),
  partition: Type.Integer({ minimum: 0, description: "the policy task (asset partition) counted" }),
  passed: Type.Integer({ minimum: 0 }),
  evaluated: Type.Integer({ minimum: 0 }),
  open_violations: Type.Integer({ minimum: 0 }),
  updated_at: DateTime(),
}, { additionalProperties: false });
export type ScorePart = Static<typeof ScorePart>;

export const SCORE_PARTS_TOPIC = defineTopic({
  name: "lz.compliance.score_parts.v1",
  schema: ScorePart,
  compacted: true,
  partitions: 1,
  key: "<scope>|<policy task partition> (one partition: the task that sums a scope sees every part)",
  description: "Compliance counters of each policy task, summed into lz.compliance.scores.v1.",
});

export const Governance = Type.Object({
  repo: Type.Union([Type.String(), Type.Null()]),
  path: Type.String(),
  commit: Type.Union([Type.String(), Type.Null()]),
  present: Type.Boolean({ description: "false when pmo.yaml was deleted (no governance rules)" }),
  required_labels: Type.Array(Type.Object({
    key: Type.String({ minLength: 1 }),
    pattern: Type.Union([Type.String(), Type.Null()], {
      description: "regular expression the value must match",
    }),
    allowed: Type.Union([Type.Array(Type.String()), Type.Null()], { description: "allowed values" }),
  }, { additionalProperties: false })),
  allowed_regions: Type.Array(Type.String(), { description: "regions; `europe-*` style prefixes allowed" }),
  exceptions: Type.Array(
    Type.Object({
      rule: Type.String({ description: "rule id, or * for every rule" }),
      resource: Type.String({ description: "asset name, or a prefix ending in *" }),
      reason: Type.Union([Type.String(), Type.Null()]),
    }, { additionalProperties: false }),
    { description: "evaluations skipped (not applicable) by decision" },
  ),
  updated_at: DateTime(),
}, { additionalProperties: false });
export type Governance = Static<typeof Governance>;

export const GOVERNANCE_TOPIC = defineTopic({
  name: "lz.compliance.governance.v1",
  schema: Governance,
  compacted: true,
  partitions: 1,
  keyed: true,
  key: "pmo (broadcast: one copy on every partition, so every policy task has it)",
  description: "Governance rules (required labels, allowed regions) from the synced pmo.yaml.",
});
