/**
 * The changelog format of the policy processor's `assets` store (persisted contract). In memory an entry is
 * the compact {@link PolicyAsset} (short field names: 100k assets × every rule per task); on disk it is
 * written readable, as {@link PolicyAssetV1}, with format version 1 in the record's `lz-fmt` header.
 * Version 0 — changelogs written before this codec — is the compact form itself and restores unchanged, so
 * state on a user's disk survives the upgrade and rebuilds to the same digest.
 */
import type { StoreCodec } from "../../pipeline/processor/store.ts";
import { LzError } from "../../pipeline/errors.ts";
import type { Severity } from "../../schemas/violations.ts";
import { NOT_EVALUATED, PASSED, type PolicyAsset, type RuleResult, type SlimAsset } from "./processor.ts";

/** Format 1 of a policy store entry: what the asset is, and each rule's latest result on it. */
export interface PolicyAssetV1 {
  asset: {
    type: string;
    project_id: string | null;
    project_number: string | null;
    location: string | null;
    labels?: Record<string, string>;
    /** True when the asset has no resource data (IAM or org-policy only): rules that need it are not evaluated. */
    resource_data_missing?: true;
  };
  results: Record<string, RuleResultV1>;
}

/** Format 1 of one rule's result. */
export interface RuleResultV1 {
  passed: boolean;
  /** Reported by the Landing Zone (not a pass/fail evaluation: no denominator in scores). */
  lz_reported?: true;
  /** The data the rule needs is missing: shown, never counted in scores. */
  not_evaluated?: true;
  /** Failing only: when this failing streak began, when it was last seen, and what the violation shows. */
  first_seen?: string;
  last_seen?: string;
  message?: string;
  severity?: Severity;
  title?: string;
  benchmarks?: string[];
}

// Passing results are shared frozen objects in memory (most results pass, see processor.ts); decoding keeps
// it so, and encoding writes their text once per rule id.

function resultV1(r: RuleResult): RuleResultV1 {
  const out: RuleResultV1 = { passed: r.p === 1 };
  if (r.lz) out.lz_reported = true;
  if (r.ne) out.not_evaluated = true;
  if (r.fs !== undefined) out.first_seen = r.fs;
  if (r.ls !== undefined) out.last_seen = r.ls;
  if (r.msg !== undefined) out.message = r.msg;
  if (r.sev !== undefined) out.severity = r.sev;
  if (r.title !== undefined) out.title = r.title;
  if (r.bm !== undefined) out.benchmarks = r.bm;
  return out;
}

function resultFromV1(v: RuleResultV1): RuleResult {
  if (v.passed && !v.lz_reported && v.first_seen === undefined && v.message === undefined) {
    return v.not_evaluated ? NOT_EVALUATED : PASSED;
  }
  const r: RuleResult = { p: v.passed ? 1 : 0 };
  if (v.lz_reported) r.lz = 1;
  if (v.not_evaluated) r.ne = 1;
  if (v.first_seen !== undefined) r.fs = v.first_seen;
  if (v.last_seen !== undefined) r.ls = v.last_seen;
  if (v.message !== undefined) r.msg = v.message;
  if (v.severity !== undefined) r.sev = v.severity;
  if (v.title !== undefined) r.title = v.title;
  if (v.benchmarks !== undefined) r.bm = v.benchmarks;
  return r;
}

/** The readable form of an in-memory entry. */
export function policyAssetToV1(e: PolicyAsset): PolicyAssetV1 {
  const a: PolicyAssetV1["asset"] = {
    type: e.a.t,
    project_id: e.a.p,
    project_number: e.a.n,
    location: e.a.l,
  };
  if (e.a.b !== undefined) a.labels = e.a.b;
  if (e.a.x) a.resource_data_missing = true;
  const results: Record<string, RuleResultV1> = {};
  for (const id in e.r) results[id] = resultV1(e.r[id]);
  return { asset: a, results };
}

const str = JSON.stringify;
/** `"<id>":` and the text of a passing / not-evaluated result, per rule id (rule ids are few and repeat). */
const passedText = new Map<string, string>();
const notEvaluatedText = new Map<string, string>();

/**
 * JSON text of strings that repeat across entries — asset types, project ids and numbers, locations, the
 * times of failing results, rule ids, titles and severities — so an entry costs a map lookup per such field
 * instead of a JSON.stringify call (each call costs more than the few bytes it writes). Bounded: cleared when
 * full (an export with more distinct values only loses the reuse).
 */
const quoted = new Map<string, string>();
const QUOTED_MAX = 8192;
function q(s: string | null): string {
  if (s === null) return "null";
  let t = quoted.get(s);
  if (t === undefined) {
    t = str(s);
    if (quoted.size >= QUOTED_MAX) quoted.clear();
    quoted.set(s, t);
  }
  return t;
}
/** The text of a benchmarks array, per array (a rule's results share its array until a restore). */
const benchmarksText = new WeakMap<string[], string>();
function benchmarks(bm: string[]): string {
  let t = benchmarksText.get(bm);
  if (t === undefined) benchmarksText.set(bm, t = str(bm));
  return t;
}

function resultText(id: string, r: RuleResult): string {
  if (r === PASSED) {
    let t = passedText.get(id);
    if (t === undefined) passedText.set(id, t = `${str(id)}:{"passed":true}`);
    return t;
  }
  if (r === NOT_EVALUATED) {
    let t = notEvaluatedText.get(id);
    if (t === undefined) notEvaluatedText.set(id, t = `${str(id)}:{"passed":true,"not_evaluated":true}`);
    return t;
  }
  let s = `${q(id)}:{"passed":${r.p === 1}`;
  if (r.lz) s += `,"lz_reported":true`;
  if (r.ne) s += `,"not_evaluated":true`;
  if (r.fs !== undefined) s += `,"first_seen":${q(r.fs)}`;
  if (r.ls !== undefined) s += `,"last_seen":${q(r.ls)}`;
  if (r.msg !== undefined) s += `,"message":${str(r.msg)}`;
  if (r.sev !== undefined) s += `,"severity":${q(r.sev)}`;
  if (r.title !== undefined) s += `,"title":${q(r.title)}`;
  if (r.bm !== undefined) s += `,"benchmarks":${benchmarks(r.bm)}`;
  return s + "}";
}

/**
 * The changelog text of an in-memory entry: exactly `JSON.stringify(policyAssetToV1(e))`, built as text
 * (no readable copy of the entry is made first; a passing result's text is shared per rule id, repeating
 * strings' text is cached).
 */
export function policyAssetText(e: PolicyAsset): string {
  const a = e.a;
  let s = `{"asset":{"type":${q(a.t)},"project_id":${q(a.p)},"project_number":${q(a.n)},"location":${q(a.l)}`;
  if (a.b !== undefined) s += `,"labels":${str(a.b)}`;
  if (a.x) s += `,"resource_data_missing":true`;
  s += `},"results":{`;
  let first = true;
  for (const id in e.r) {
    s += first ? resultText(id, e.r[id]) : "," + resultText(id, e.r[id]);
    first = false;
  }
  return s + "}}";
}

/** The in-memory entry of a readable one. */
export function policyAssetFromV1(v: PolicyAssetV1): PolicyAsset {
  const a: SlimAsset = {
    t: v.asset.type,
    p: v.asset.project_id,
    n: v.asset.project_number,
    l: v.asset.location,
  };
  if (v.asset.labels !== undefined) a.b = v.asset.labels;
  if (v.asset.resource_data_missing) a.x = 1;
  const r: Record<string, RuleResult> = {};
  for (const id in v.results) r[id] = resultFromV1(v.results[id]);
  return { a, r };
}

/** Interns passing results of a version-0 entry (written before the codec: already the compact form). */
function fromV0(raw: PolicyAsset): PolicyAsset {
  const r: Record<string, RuleResult> = {};
  for (const id in raw.r) {
    const x = raw.r[id];
    const keys = Object.keys(x);
    r[id] = x.p === 1 && keys.length === 1
      ? PASSED
      : x.p === 1 && x.ne === 1 && keys.length === 2
      ? NOT_EVALUATED
      : x;
  }
  return { a: raw.a, r };
}

/** The codec of the policy processor's `assets` store. */
export const policyAssetCodec: StoreCodec<PolicyAsset> = {
  version: 1,
  encode: policyAssetText,
  decode(raw, version) {
    if (version === 1) return policyAssetFromV1(raw as PolicyAssetV1);
    if (version === 0) return fromV0(raw as PolicyAsset);
    throw new LzError(
      "CHANGELOG_FORMAT",
      `policy store entry has format ${version}, newer than this lzsync knows (1); upgrade lzsync`,
    );
  },
};
