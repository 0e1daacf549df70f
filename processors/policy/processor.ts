/**
 * The `policy` processor: evaluates every asset change on `lz.assets.v1` against the CIS rules and the
 * governance rules of the synced `pmo.yaml`, records every evaluation (pass and fail) per asset on the
 * compacted `lz.compliance.evaluations.v1`, opens and resolves violations on `lz.violations.v1` (one key per
 * rule and asset) with first_seen / last_seen, and emits passed/evaluated counters (overall, per project, per
 * rule) of its partition's assets on `lz.compliance.score_parts.v1`, summed into `lz.compliance.scores.v1`
 * by `score_totals.ts`.
 *
 * One store entry per asset holds the few fields governance rules read (type, project, location, labels) and
 * the asset's rule results, so an asset change costs one store write; a new `pmo.yaml` re-evaluates the
 * governance rules on every known asset. Times come from the records (`observed_at`, `updated_at`), never
 * the wall clock, so a replay rebuilds exactly the same state.
 *
 * When a rule started failing on an asset is older than the asset's record on a compacted `lz.assets.v1`
 * (which keeps only the latest one), so a rebuild (replay, or a fresh group) reads it back from the table
 * `lz.violations.v1`: a failing result with no failing predecessor in the store belongs to the streak of the
 * key's latest violation record when its time falls within it (`first_seen` ≤ t, before `resolved_at`).
 */
import type { InputRecord, Processor, ProcessorContext } from "../../pipeline/processor/types.ts";
import { type AssetRecord, ASSETS_TOPIC, type AssetState } from "../../schemas/assets.ts";
import {
  EVALUATIONS_TOPIC,
  type Governance,
  GOVERNANCE_TOPIC,
  SCORE_PARTS_TOPIC,
} from "../../schemas/compliance.ts";
import type { InfraEvent } from "../../schemas/infra_events.ts";
import { type Severity, type Violation, VIOLATIONS_TOPIC } from "../../schemas/violations.ts";
import { excepted, governanceRules, labelsOf, locationInData } from "./governance.ts";
import { missingPart, notEvaluated, type Rule } from "./rule.ts";
import { CIS_RULES, indexByType } from "./rules.ts";
import { type Counted, Scores } from "./scores.ts";

/** Store names (persisted contract). */
export const STORE_ASSETS = "assets";
export const STORE_GOVERNANCE = "governance";

/** One rule's latest result on an asset. Failing results keep what their violation record shows. */
export interface RuleResult {
  /** 1 passed, 0 failed. */
  p: 0 | 1;
  /** Landing Zone-reported (not a pass/fail evaluation: no denominator in scores). */
  lz?: 1;
  /** Not evaluated: the data the rule needs is missing (shown, never counted in scores). */
  ne?: 1;
  /** Failing only: first seen failing (this streak), last seen, message, and rule metadata. */
  fs?: string;
  ls?: string;
  msg?: string;
  sev?: Severity;
  title?: string;
  bm?: string[];
}

/** Type, project id, project number, location and labels (when the type has labels) of an asset. */
export interface SlimAsset {
  /** 1 when the asset has no resource data (absent in older entries: it had). */
  x?: 1;
  t: string;
  p: string | null;
  n: string | null;
  l: string | null;
  b?: Record<string, string>;
}

/**
 * The store entry of an asset (store `assets`, key = asset name), as kept in memory; its changelog form is
 * the readable, versioned one of `codec.ts` (format 0, this very shape, still restores).
 */
export interface PolicyAsset {
  /** What governance rules and violation records read of the asset. */
  a: SlimAsset;
  /** Results by rule id. */
  r: Record<string, RuleResult>;
}

/**
 * What the policy keeps of a violation record read from the table `lz.violations.v1` (key = the record
 * key): the failing streak the record describes, from `fs` to `end` (its `resolved_at`; null while open).
 */
export interface Streak {
  fs: string;
  end: string | null;
}

/** The table projection of a violation record (see {@link Streak}). */
export function streakOf(v: unknown): Streak {
  const x = v as Violation;
  return { fs: x.first_seen, end: x.state === "resolved" ? x.resolved_at : null };
}

/** Tunables. */
export interface PolicyOptions {
  /** How often changed scores are emitted (default 1 s). */
  scoreIntervalMs?: number;
  /** Replaces the built-in rules (tests). */
  rules?: readonly Rule[];
}

const LZ_PREFIX = "lz:";

function slim(a: AssetRecord): SlimAsset {
  const out: SlimAsset = { t: a.asset_type, p: a.project, n: a.project_number, l: a.location };
  if (a.data === null) {
    out.x = 1;
    return out;
  }
  const labels = labelsOf(a);
  if (labels !== undefined) out.b = labels;
  if (out.l === null) out.l = locationInData(a);
  return out;
}

/** The asset a governance rule sees, rebuilt from the store entry. */
function expand(name: string, s: SlimAsset): AssetRecord {
  const labels = s.b;
  return {
    name,
    asset_type: s.t,
    project: s.p,
    project_number: s.n,
    location: s.l,
    update_time: null,
    ancestors: [],
    resource_parent: null,
    data: s.x
      ? null
      : labels === undefined
      ? {}
      : s.t === "container.googleapis.com/Cluster"
      ? { resourceLabels: labels }
      : s.t === "sqladmin.googleapis.com/Instance"
      ? { settings: { userLabels: labels } }
      : { labels },
  };
}

/** A passing result: one shared, frozen object (results are never mutated, only replaced). */
export const PASSED: RuleResult = Object.freeze({ p: 1 });
/** A not-evaluated result (shared, frozen). */
export const NOT_EVALUATED: RuleResult = Object.freeze({ p: 1, ne: 1 });

/** True when a result counts in passed/evaluated. */
const scored = (r: RuleResult) => !r.lz && !r.ne;

/** An asset's results when it has none (never written to). */
const NONE: Readonly<Record<string, RuleResult>> = Object.freeze({});

const projectOfSlim = (s: SlimAsset) => s.p ?? (s.n ? `#${s.n}` : null);

type ResultItem = Readonly<{ rule_id: string; passed: boolean }>;
/** The `results` items of evaluation records, one shared frozen pair per rule id (they are only serialized). */
const resultItems = new Map<string, [ResultItem, ResultItem]>();
function resultItem(rule: string, passed: boolean): ResultItem {
  let pair = resultItems.get(rule);
  if (pair === undefined) {
    pair = [Object.freeze({ rule_id: rule, passed: false }), Object.freeze({ rule_id: rule, passed: true })];
    resultItems.set(rule, pair);
  }
  return pair[passed ? 1 : 0];
}

/** Creates one task's policy processor. */
export function createPolicyProcessor(opts: PolicyOptions = {}): Processor<unknown> {
  const cis = indexByType(opts.rules ?? CIS_RULES);
  let gov: Governance | undefined;
  let govByType = new Map<string, Rule[]>();
  let govIds = new Set<string>();
  /** CIS then governance rules of an asset type (rebuilt when the governance changes). */
  let rulesByType = new Map<string, Rule[]>();
  let loaded = false;
  let scores = new Scores();
  /** Streaks of the violation records this processor forwarded since it started (newer than the table). */
  const streaks = new Map<string, Streak>();
  let table: ReadonlyMap<string, Streak> = new Map();

  /** When the failing streak that a failure of `key` at `at` belongs to started (see the module doc). */
  function streakStart(key: string, at: string): string {
    const s = streaks.get(key) ?? table.get(key);
    if (!s) return at;
    const t = Date.parse(at);
    return Date.parse(s.fs) <= t && (s.end === null || t < Date.parse(s.end)) ? s.fs : at;
  }

  function forwardViolation(ctx: ProcessorContext, v: Violation): void {
    streaks.set(v.id, streakOf(v));
    ctx.forward(VIOLATIONS_TOPIC.name, v.id, v);
  }

  const counted = (rule: string, r: RuleResult, project: string | null): Counted => ({
    scored: scored(r),
    passed: r.p === 1,
    project,
    rule,
  });

  function setGovernance(g: Governance | undefined): void {
    gov = g;
    const rules = governanceRules(g);
    govByType = indexByType(rules);
    govIds = new Set(rules.map((r) => r.id));
    rulesByType = new Map();
  }

  function load(ctx: ProcessorContext): void {
    if (loaded) return;
    loaded = true;
    setGovernance(ctx.store<Governance>(STORE_GOVERNANCE).get("pmo"));
    for (const [, e] of ctx.store<PolicyAsset>(STORE_ASSETS).entries()) {
      const project = projectOfSlim(e.a);
      for (const [rule, r] of Object.entries(e.r)) scores.change(undefined, counted(rule, r, project));
    }
    scores.touchAll();
    // The parts this task's partition emitted before (the table `lz.compliance.score_parts.v1`, read at start):
    // a scope whose results all left while nothing was emitted (a crash, a stop) is drained as a null, so no
    // stale part stays summed in the score.
    const mine = `|${ctx.partition}`;
    for (const [key] of ctx.table(SCORE_PARTS_TOPIC.name)) {
      if (key.endsWith(mine)) scores.touch(key.slice(0, -mine.length));
    }
  }

  function violation(
    rule: string,
    name: string,
    a: SlimAsset,
    r: RuleResult,
    state: "open" | "resolved",
    at: string,
    resolution: Violation["resolution"],
  ): Violation {
    return {
      type: state === "open" ? "policy_violated" : "policy_resolved",
      id: `${rule}|${name}`,
      state,
      rule_id: rule,
      title: r.title ?? rule,
      severity: r.sev ?? "medium",
      benchmarks: r.bm ?? [],
      asset_name: name,
      asset_type: a.t,
      project: projectOfSlim(a),
      message: r.msg ?? "",
      source: r.lz ? "lz" : "policy",
      first_seen: r.fs ?? at,
      last_seen: r.ls ?? at,
      resolved_at: state === "resolved" ? at : null,
      resolution,
    };
  }

  /**
   * Moves an asset from `prev` to `next` (either may be absent): forwards violation changes, the evaluation
   * record when a pass/fail changed, updates the scores, and writes the store once.
   */
  function commit(
    ctx: ProcessorContext,
    name: string,
    prev: PolicyAsset | undefined,
    next: PolicyAsset | undefined,
    at: string,
    gone: (rule: string) => Violation["resolution"],
  ): void {
    const before = prev?.r ?? NONE;
    const after = next?.r ?? NONE;
    const pBefore = prev ? projectOfSlim(prev.a) : null;
    const pAfter = next ? projectOfSlim(next.a) : null;
    const sameProject = pBefore === pAfter;
    let evalChanged = !sameProject;
    let scoredBefore = false;
    for (const rule in before) {
      const b = before[rule];
      if (scored(b)) scoredBefore = true;
      const n = after[rule];
      if (n && n.p === b.p && !n.ne === !b.ne && sameProject) continue;
      scores.apply(rule, pBefore, scored(b), b.p === 1, -1);
      if (n) scores.apply(rule, pAfter, scored(n), n.p === 1, 1);
      if (!b.lz) evalChanged = true;
      if (b.p === 0 && (!n || n.p === 1)) {
        const resolution = n ? "fixed" : gone(rule);
        forwardViolation(ctx, violation(rule, name, prev!.a, b, "resolved", at, resolution));
      }
    }
    let results: ResultItem[] | undefined;
    let notEvaluated: string[] | undefined;
    let passed = 0;
    for (const rule in after) {
      const n = after[rule];
      const b = before[rule];
      if (b === undefined) {
        scores.apply(rule, pAfter, scored(n), n.p === 1, 1);
        if (!n.lz) evalChanged = true;
      }
      if (n.p === 0 && (!b || b.p === 1 || b.ls !== n.ls || b.msg !== n.msg || !sameProject)) {
        forwardViolation(ctx, violation(rule, name, next!.a, n, "open", at, null));
      }
      if (n.ne) (notEvaluated ??= []).push(rule);
      else if (!n.lz) {
        (results ??= []).push(resultItem(rule, n.p === 1));
        if (n.p === 1) passed++;
      }
    }
    if (evalChanged) {
      if (!next || (results === undefined && notEvaluated === undefined)) {
        if (prev && scoredBefore) ctx.forward(EVALUATIONS_TOPIC.name, name, null);
      } else {
        ctx.forward(EVALUATIONS_TOPIC.name, name, {
          asset_name: name,
          asset_type: next.a.t,
          project: pAfter,
          results: results ?? [],
          passed,
          evaluated: results?.length ?? 0,
          ...(notEvaluated ? { not_evaluated: notEvaluated } : {}),
          evaluated_at: at,
        });
      }
    }
    const store = ctx.store<PolicyAsset>(STORE_ASSETS);
    if (!next) store.delete(name);
    else store.put(name, next);
  }

  /** Results of `rules` on `asset`; previous results of rules not `owned` are carried over. */
  function evaluate(
    ctx: ProcessorContext,
    asset: AssetRecord,
    rules: Rule[],
    owned: (rule: string) => boolean,
    prev: Record<string, RuleResult>,
    at: string,
  ): Record<string, RuleResult> {
    const out: Record<string, RuleResult> = {};
    for (const [rule, r] of Object.entries(prev)) if (!owned(rule)) out[rule] = r;
    for (const rule of rules) {
      if (govIds.has(rule.id) && excepted(gov, rule.id, asset.name)) continue;
      let f;
      try {
        const missing = missingPart(rule, asset);
        f = missing ? notEvaluated(missing) : rule.evaluate(asset);
      } catch (err) {
        // A rule that cannot read an odd asset is a rule bug, not a reason to stop the partition.
        ctx.log.error("rule threw; treated as not applicable", {
          rule: rule.id,
          asset: asset.name,
          error: String(err),
        });
        continue;
      }
      if (!f) continue;
      if (f.evaluated === false) {
        // Missing data never resolves an open violation (it stays open, last_seen unchanged); any other
        // result becomes "not evaluated": shown, never counted as a pass.
        const b = prev[rule.id];
        out[rule.id] = b && b.p === 0 ? b : NOT_EVALUATED;
      } else if (f.passed) out[rule.id] = PASSED;
      else {
        const b = prev[rule.id];
        out[rule.id] = {
          p: 0,
          fs: b && b.p === 0 ? b.fs : streakStart(`${rule.id}|${asset.name}`, at),
          ls: at,
          msg: f.message,
          sev: rule.severity,
          title: rule.title,
          bm: rule.benchmarks,
        };
      }
    }
    return out;
  }

  function onAsset(ctx: ProcessorContext, key: string, v: AssetState | null): void {
    const prev = ctx.store<PolicyAsset>(STORE_ASSETS).get(key);
    if (v === null || v.type === "resource_deleted") {
      if (!prev) return;
      commit(
        ctx,
        key,
        prev,
        undefined,
        v?.changed_at ?? new Date(0).toISOString(),
        () => "asset_deleted",
      );
      return;
    }
    const type = v.asset.asset_type;
    let rules = rulesByType.get(type);
    if (rules === undefined) {
      rulesByType.set(type, rules = [...(cis.get(type) ?? []), ...(govByType.get(type) ?? [])]);
    }
    const r = evaluate(ctx, v.asset, rules, (id) => !id.startsWith(LZ_PREFIX), prev?.r ?? {}, v.observed_at);
    commit(
      ctx,
      key,
      prev,
      { a: slim(v.asset), r },
      v.observed_at,
      (rule) => rules.some((x) => x.id === rule) ? "fixed" : "rule_removed",
    );
  }

  function onGovernance(ctx: ProcessorContext, g: Governance | null): void {
    const store = ctx.store<Governance>(STORE_GOVERNANCE);
    if (g) store.put("pmo", g);
    else store.delete("pmo");
    const oldIds = govIds;
    setGovernance(g ?? undefined);
    const at = g?.updated_at ?? new Date(0).toISOString();
    const owned = (id: string) => oldIds.has(id) || govIds.has(id);
    const assets = ctx.store<PolicyAsset>(STORE_ASSETS);
    for (const [name, e] of [...assets.entries()]) {
      const rules = govByType.get(e.a.t) ?? [];
      if (!rules.length && !Object.keys(e.r).some(owned)) continue;
      const r = evaluate(ctx, expand(name, e.a), rules, owned, e.r, at);
      if (JSON.stringify(r) === JSON.stringify(e.r)) continue;
      commit(ctx, name, e, { a: e.a, r }, at, (rule) => govIds.has(rule) ? "fixed" : "rule_removed");
    }
  }

  function onLzViolation(ctx: ProcessorContext, v: Extract<InfraEvent, { type: "policy_violated" }>): void {
    const prev = ctx.store<PolicyAsset>(STORE_ASSETS).get(v.asset_name);
    const rule = `${LZ_PREFIX}${v.rule_id}`;
    const b = prev?.r[rule];
    if (b && b.ls && b.ls >= v.publish_time) return; // a duplicate or an older report
    const a: SlimAsset = prev?.a ?? { t: v.asset_type ?? "unknown", p: v.project, n: null, l: null };
    const r: RuleResult = {
      p: 0,
      lz: 1,
      fs: b?.fs ?? streakStart(`${rule}|${v.asset_name}`, v.publish_time),
      ls: v.publish_time,
      msg: v.message,
      sev: v.severity,
      title: v.rule_id,
      bm: ["Landing Zone policy"],
    };
    commit(
      ctx,
      v.asset_name,
      prev,
      { a, r: { ...(prev?.r ?? {}), [rule]: r } },
      v.publish_time,
      () => "fixed",
    );
  }

  return {
    init(ctx) {
      table = ctx.table<Streak>(VIOLATIONS_TOPIC.name);
      ctx.schedule(opts.scoreIntervalMs ?? 1000, (now) => {
        load(ctx);
        if (!scores.dirty) return;
        // This task counts only its partition's assets: `lzsync-policy-scores` sums the parts.
        for (const [scope, value] of scores.drain(new Date(now).toISOString())) {
          ctx.forward(
            SCORE_PARTS_TOPIC.name,
            `${scope}|${ctx.partition}`,
            value && {
              scope,
              partition: ctx.partition,
              passed: value.passed,
              evaluated: value.evaluated,
              open_violations: value.open_violations,
              updated_at: value.updated_at,
            },
          );
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
