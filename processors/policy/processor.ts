/**
 * The `policy` processor: evaluates every asset change on `lz.assets.v1` against the CIS rules and the
 * governance rules of the synced `pmo.yaml`, records each evaluation (pass and fail) on the compacted
 * `lz.compliance.evaluations.v1`, opens and resolves violations on `lz.violations.v1` with first_seen /
 * last_seen, and emits passed/evaluated scores (overall, per project, per rule) on `lz.compliance.scores.v1`.
 *
 * A new `pmo.yaml` re-evaluates the governance rules on every known asset (the store keeps the few fields
 * they read: type, project, location, labels). Times come from the records (`observed_at`, `updated_at`),
 * never the wall clock, so a replay rebuilds exactly the same state.
 */
import type { InputRecord, Processor, ProcessorContext } from "../../pipeline/processor/types.ts";
import { type AssetRecord, ASSETS_TOPIC, type AssetState } from "../../schemas/assets.ts";
import {
  EVALUATIONS_TOPIC,
  type Governance,
  GOVERNANCE_TOPIC,
  SCORES_TOPIC,
} from "../../schemas/compliance.ts";
import type { InfraEvent } from "../../schemas/infra_events.ts";
import { type Violation, VIOLATIONS_TOPIC } from "../../schemas/violations.ts";
import type { Severity } from "../../schemas/violations.ts";
import { excepted, governanceRules, labelsOf } from "./governance.ts";
import type { Rule } from "./rule.ts";
import { CIS_RULES, indexByType } from "./rules.ts";
import { type Counted, Scores } from "./scores.ts";

/** Store names (persisted contract). */
export const STORE_ASSETS = "assets";
export const STORE_RESULTS = "results";
export const STORE_GOVERNANCE = "governance";

/** What the store keeps per asset: enough to re-run governance rules and to find its results. */
export interface PolicyAsset {
  /** A slim asset: type, project, location and labels only. */
  a: AssetRecord;
  /** Keys (`rule|asset`) of the results stored for this asset. */
  r: string[];
}

/** One stored result (store `results`, key `<rule_id>|<asset name>`). */
export interface StoredResult {
  rule: string;
  passed: boolean;
  scored: boolean;
  project: string | null;
  type: string;
  /** Failing only: when this failure streak began, when last seen, the message, and rule metadata. */
  fs?: string;
  ls?: string;
  msg?: string;
  sev?: Severity;
  title?: string;
  bm?: string[];
}

/** Tunables. */
export interface PolicyOptions {
  /** How often changed scores are emitted (default 1 s). */
  scoreIntervalMs?: number;
  /** Replaces the built-in rules (tests). */
  rules?: readonly Rule[];
}

const cisKey = (rule: string, asset: string) => `${rule}|${asset}`;
const projectOf = (a: AssetRecord) => a.project ?? (a.project_number ? `#${a.project_number}` : null);
const counted = (r: StoredResult): Counted => ({
  scored: r.scored,
  passed: r.passed,
  project: r.project,
  rule: r.rule,
});

function slim(a: AssetRecord): AssetRecord {
  const labels = labelsOf(a);
  return {
    name: a.name,
    asset_type: a.asset_type,
    project: a.project,
    project_number: a.project_number,
    location: a.location,
    update_time: a.update_time,
    ancestors: [],
    resource_parent: null,
    data: labels === undefined
      ? null
      : a.asset_type === "container.googleapis.com/Cluster"
      ? { resourceLabels: labels }
      : a.asset_type === "sqladmin.googleapis.com/Instance"
      ? { settings: { userLabels: labels } }
      : { labels },
  };
}

/** Creates one task's policy processor. */
export function createPolicyProcessor(opts: PolicyOptions = {}): Processor<unknown> {
  const cis = indexByType(opts.rules ?? CIS_RULES);
  let gov: Governance | undefined;
  let govByType = new Map<string, Rule[]>();
  let govIds = new Set<string>();
  let loaded = false;
  let scores = new Scores();

  function load(ctx: ProcessorContext): void {
    if (loaded) return;
    loaded = true;
    gov = ctx.store<Governance>(STORE_GOVERNANCE).get("pmo");
    const rules = governanceRules(gov);
    govByType = indexByType(rules);
    govIds = new Set(rules.map((r) => r.id));
    for (const [, r] of ctx.store<StoredResult>(STORE_RESULTS).entries()) {
      scores.change(undefined, counted(r));
    }
    scores.touchAll();
  }

  function violation(
    key: string,
    asset: string,
    r: StoredResult,
    state: "open" | "resolved",
    at: string,
    resolution: Violation["resolution"],
  ): Violation {
    return {
      type: state === "open" ? "policy_violated" : "policy_resolved",
      id: key,
      state,
      rule_id: r.rule,
      title: r.title ?? r.rule,
      severity: r.sev ?? "medium",
      benchmarks: r.bm ?? [],
      asset_name: asset,
      asset_type: r.type,
      project: r.project,
      message: r.msg ?? "",
      source: r.scored ? "policy" : "lz",
      first_seen: r.fs ?? at,
      last_seen: r.ls ?? at,
      resolved_at: state === "resolved" ? at : null,
      resolution,
    };
  }

  /** Stores `next` for `key` (or removes it), forwarding the evaluation and violation changes. */
  function setResult(
    ctx: ProcessorContext,
    key: string,
    asset: string,
    next: StoredResult | undefined,
    at: string,
    resolution: Violation["resolution"] = "fixed",
  ): void {
    const results = ctx.store<StoredResult>(STORE_RESULTS);
    const prev = results.get(key);
    if (!next) {
      if (!prev) return;
      results.delete(key);
      scores.change(counted(prev), undefined);
      if (prev.scored) ctx.forward(EVALUATIONS_TOPIC.name, key, null);
      if (!prev.passed) {
        ctx.forward(VIOLATIONS_TOPIC.name, key, violation(key, asset, prev, "resolved", at, resolution));
      }
      return;
    }
    if (!next.passed) {
      next.fs = prev && !prev.passed ? prev.fs : at;
      next.ls = at;
    }
    const same = prev && prev.passed === next.passed && prev.project === next.project &&
      (next.passed || (prev.msg === next.msg && prev.ls === next.ls));
    if (same) return;
    results.put(key, next);
    scores.change(prev && counted(prev), counted(next));
    if (next.scored && (!prev || prev.passed !== next.passed || prev.project !== next.project)) {
      ctx.forward(EVALUATIONS_TOPIC.name, key, {
        rule_id: next.rule,
        asset_name: asset,
        asset_type: next.type,
        project: next.project,
        passed: next.passed,
        evaluated_at: at,
      });
    }
    if (!next.passed) ctx.forward(VIOLATIONS_TOPIC.name, key, violation(key, asset, next, "open", at, null));
    else if (prev && !prev.passed) {
      ctx.forward(VIOLATIONS_TOPIC.name, key, violation(key, asset, prev, "resolved", at, "fixed"));
    }
  }

  /** Evaluates `rules` on `asset`; results of `owned` rules not produced now are removed. */
  function evaluate(
    ctx: ProcessorContext,
    asset: AssetRecord,
    rules: Rule[],
    owned: (id: string) => boolean,
    entry: PolicyAsset,
    at: string,
  ): void {
    const keep = new Set(entry.r.filter((k) => !owned(k.slice(0, k.indexOf("|")))));
    for (const rule of rules) {
      if (gov && govIds.has(rule.id) && excepted(gov, rule.id, asset.name)) continue;
      let f;
      try {
        f = rule.evaluate(asset);
      } catch (err) {
        // A rule that cannot read an odd asset is a rule bug, not a reason to stop the partition.
        ctx.log.error("rule threw; treated as not applicable", {
          rule: rule.id,
          asset: asset.name,
          error: String(err),
        });
        f = null;
      }
      if (!f) continue;
      const key = cisKey(rule.id, asset.name);
      keep.add(key);
      setResult(ctx, key, asset.name, {
        rule: rule.id,
        passed: f.passed,
        scored: true,
        project: projectOf(asset),
        type: asset.asset_type,
        ...(f.passed ? {} : { msg: f.message, sev: rule.severity, title: rule.title, bm: rule.benchmarks }),
      }, at);
    }
    for (const k of entry.r) {
      if (keep.has(k)) continue;
      const stillARule = rules.some((r) => k.startsWith(`${r.id}|`));
      setResult(ctx, k, asset.name, undefined, at, stillARule ? "fixed" : "rule_removed");
    }
    entry.r = [...keep];
  }

  function onAsset(ctx: ProcessorContext, key: string, v: AssetState | null): void {
    const assets = ctx.store<PolicyAsset>(STORE_ASSETS);
    const entry = assets.get(key);
    if (v === null || v.type === "resource_deleted") {
      if (!entry) return;
      const at = v?.changed_at ?? entry.a.update_time ?? new Date(ctx.now()).toISOString();
      for (const k of entry.r) setResult(ctx, k, key, undefined, at, "asset_deleted");
      assets.delete(key);
      return;
    }
    const next: PolicyAsset = { a: slim(v.asset), r: entry?.r ?? [] };
    const rules = [...(cis.get(v.asset.asset_type) ?? []), ...(govByType.get(v.asset.asset_type) ?? [])];
    evaluate(ctx, v.asset, rules, (id) => !id.startsWith("lz:"), next, v.observed_at);
    assets.put(key, next);
  }

  function onGovernance(ctx: ProcessorContext, g: Governance | null): void {
    const store = ctx.store<Governance>(STORE_GOVERNANCE);
    if (g) store.put("pmo", g);
    else store.delete("pmo");
    gov = g ?? undefined;
    const rules = governanceRules(gov);
    const oldIds = govIds;
    govByType = indexByType(rules);
    govIds = new Set(rules.map((r) => r.id));
    const at = g?.updated_at ?? new Date(ctx.now()).toISOString();
    const assets = ctx.store<PolicyAsset>(STORE_ASSETS);
    const all = [...assets.entries()];
    for (const [name, entry] of all) {
      const next = { a: entry.a, r: entry.r };
      evaluate(
        ctx,
        entry.a,
        govByType.get(entry.a.asset_type) ?? [],
        (id) => oldIds.has(id) || govIds.has(id),
        next,
        at,
      );
      if (next.r.join() !== entry.r.join()) assets.put(name, next);
    }
  }

  function onLzViolation(ctx: ProcessorContext, v: Extract<InfraEvent, { type: "policy_violated" }>): void {
    const assets = ctx.store<PolicyAsset>(STORE_ASSETS);
    const key = cisKey(`lz:${v.rule_id}`, v.asset_name);
    const entry = assets.get(v.asset_name) ?? {
      a: slim({
        name: v.asset_name,
        asset_type: v.asset_type ?? "unknown",
        project: v.project,
        project_number: null,
        location: null,
        update_time: null,
        ancestors: [],
        resource_parent: null,
        data: null,
      }),
      r: [],
    };
    const prev = ctx.store<StoredResult>(STORE_RESULTS).get(key);
    if (prev && prev.ls && prev.ls >= v.publish_time) return; // duplicate or older report
    setResult(ctx, key, v.asset_name, {
      rule: `lz:${v.rule_id}`,
      passed: false,
      scored: false,
      project: v.project ?? entry.a.project,
      type: v.asset_type ?? entry.a.asset_type,
      msg: v.message,
      sev: v.severity,
      title: v.rule_id,
      bm: ["Landing Zone policy"],
    }, v.publish_time);
    if (!entry.r.includes(key)) entry.r = [...entry.r, key];
    assets.put(v.asset_name, entry);
  }

  return {
    init(ctx) {
      ctx.schedule(opts.scoreIntervalMs ?? 1000, (now) => {
        load(ctx);
        if (!scores.dirty) return;
        for (const [scope, value] of scores.drain(new Date(now).toISOString())) {
          ctx.forward(SCORES_TOPIC.name, scope, value);
        }
      });
    },
    process(rec: InputRecord<unknown>, ctx) {
      load(ctx);
      try {
        if (rec.topic === ASSETS_TOPIC.name) onAsset(ctx, rec.key ?? "", rec.value as AssetState | null);
        else if (rec.topic === GOVERNANCE_TOPIC.name) onGovernance(ctx, rec.value as Governance | null);
        else if ((rec.value as InfraEvent | null)?.type === "policy_violated") {
          onLzViolation(ctx, rec.value as Extract<InfraEvent, { type: "policy_violated" }>);
        }
      } catch (err) {
        // The host rolls the stores back; rebuild the counters from them on the next record.
        scores = new Scores();
        loaded = false;
        throw err;
      }
    },
  };
}
