/**
 * Policy and compliance: the `lzsync-policy` topology (CIS GCP / CIS GKE rules plus pmo.yaml governance over
 * `lz.assets.v1`, one task per asset partition; evaluations, violations, score parts), the
 * `lzsync-policy-scores` topology (score parts of every task → `lz.compliance.scores.v1`) and the
 * `lzsync-policy-governance` topology (pmo.yaml from `lz.git.files.v1` → `lz.compliance.governance.v1`, a
 * copy on every partition).
 */
import type { Topology } from "../../pipeline/processor/types.ts";
import { ASSETS_TOPIC } from "../../schemas/assets.ts";
import {
  EVALUATIONS_TOPIC,
  GOVERNANCE_TOPIC,
  SCORE_PARTS_TOPIC,
  SCORES_TOPIC,
} from "../../schemas/compliance.ts";
import { GIT_FILES_TOPIC } from "../../schemas/git_files.ts";
import { INFRA_EVENTS_TOPIC } from "../../schemas/infra_events.ts";
import { VIOLATIONS_TOPIC } from "../../schemas/violations.ts";
import {
  createPolicyProcessor,
  type PolicyOptions,
  STORE_ASSETS,
  STORE_GOVERNANCE,
  streakOf,
} from "./processor.ts";
import { createGovernanceProcessor } from "./governance_processor.ts";
import { policyAssetCodec } from "./codec.ts";
import { createScoreTotalsProcessor, STORE_PARTS } from "./score_totals.ts";

export { CIS_RULES, indexByType } from "./rules.ts";
export { governanceRules, parsePmo, RULE_ALLOWED_REGIONS, RULE_REQUIRED_LABELS } from "./governance.ts";
export type { Finding, Rule } from "./rule.ts";
export type { PolicyOptions } from "./processor.ts";

/** Application ids (persisted contracts). */
export const POLICY_APP = "lzsync-policy";
export const GOVERNANCE_APP = "lzsync-policy-governance";
export const SCORES_APP = "lzsync-policy-scores";

/** The policy topology. */
export function policyTopology(opts: PolicyOptions & { app?: string } = {}): Topology {
  return {
    app: opts.app ?? POLICY_APP,
    inputs: [ASSETS_TOPIC.name, GOVERNANCE_TOPIC.name, INFRA_EVENTS_TOPIC.name],
    // pmo.yaml before the assets at a cold start: else the first asset batch is evaluated without it, and
    // again (and its evaluation records written twice) when it arrives
    bootstrap: [GOVERNANCE_TOPIC.name],
    stores: [STORE_ASSETS, STORE_GOVERNANCE],
    codecs: { [STORE_ASSETS]: policyAssetCodec },
    outputs: [VIOLATIONS_TOPIC.name, EVALUATIONS_TOPIC.name, SCORE_PARTS_TOPIC.name],
    // when each open violation was first seen, which a compacted lz.assets.v1 no longer tells a rebuild
    tables: [
      { topic: VIOLATIONS_TOPIC.name, select: streakOf },
      // which scopes this task emitted before a restart (see the processor's load)
      { topic: SCORE_PARTS_TOPIC.name, select: () => 1 },
    ],
    create: () => createPolicyProcessor(opts),
    description: "evaluates assets against CIS and pmo.yaml rules; violations, evaluations, scores",
  };
}

/** The pmo.yaml → governance topology. */
export function governanceTopology(app = GOVERNANCE_APP): Topology {
  return {
    app,
    inputs: [GIT_FILES_TOPIC.name],
    stores: [],
    outputs: [GOVERNANCE_TOPIC.name],
    create: createGovernanceProcessor,
    description: "reads pmo.yaml from lz.git.files.v1 into lz.compliance.governance.v1",
  };
}

/** The score topology: sums the policy tasks' counters per scope into `lz.compliance.scores.v1`. */
export function scoresTopology(app = SCORES_APP): Topology {
  return {
    app,
    inputs: [SCORE_PARTS_TOPIC.name],
    stores: [STORE_PARTS],
    outputs: [SCORES_TOPIC.name],
    create: createScoreTotalsProcessor,
    description: "sums the policy tasks' score parts into lz.compliance.scores.v1",
  };
}
