/**
 * Policy violations (`processors/policy/`): one compacted record per rule and asset, open or resolved, with
 * when it was first and last seen failing. The value's `type` is the WebSocket frame type.
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

/** Severity of a rule or violation. */
export const Severity = Type.Union([
  Type.Literal("critical"),
  Type.Literal("high"),
  Type.Literal("medium"),
  Type.Literal("low"),
]);
export type Severity = Static<typeof Severity>;

export const Violation = Type.Object({
  type: Type.Union([Type.Literal("policy_violated"), Type.Literal("policy_resolved")]),
  id: Type.String({ description: "<rule_id>|<asset name>, the record key" }),
  state: Type.Union([Type.Literal("open"), Type.Literal("resolved")]),
  rule_id: Type.String(),
  title: Type.String(),
  severity: Severity,
  benchmarks: Type.Array(Type.String(), { description: "e.g. CIS GCP 3.6" }),
  asset_name: Type.String(),
  asset_type: Type.Union([Type.String(), Type.Null()]),
  project: Type.Union([Type.String(), Type.Null()]),
  message: Type.String({ description: "what is wrong and what would pass" }),
  source: Type.Union([Type.Literal("policy"), Type.Literal("lz")], {
    description: "policy: lzsync's rules; lz: a Landing Zone policy_violated event",
  }),
  first_seen: Type.String({ format: "date-time" }),
  last_seen: Type.String({ format: "date-time" }),
  resolved_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  resolution: Type.Union([
    Type.Literal("fixed"),
    Type.Literal("asset_deleted"),
    Type.Literal("rule_removed"),
    Type.Null(),
  ]),
}, { additionalProperties: false });
export type Violation = Static<typeof Violation>;

export const VIOLATIONS_TOPIC = defineTopic({
  name: "lz.violations.v1",
  schema: Violation,
  compacted: true,
  partitions: 1,
  keyed: true,
  key: "<rule_id>|<asset name>",
  description: "Open and resolved policy violations with first_seen / last_seen.",
});
