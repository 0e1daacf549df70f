/**
 * The shape of a policy rule. A rule has a stable id (persisted in violation and evaluation keys: never
 * rename), a severity, benchmark references, the asset types it applies to, and an `evaluate` that returns
 * pass/fail with a message, or `null` when the rule does not apply to that asset (not counted in scores).
 */
import type { AssetRecord } from "../../schemas/assets.ts";
import type { Severity } from "../../schemas/violations.ts";

/** Outcome of one evaluation. */
export interface Finding {
  passed: boolean;
  /** What is wrong (or right) and, on failure, what would pass. */
  message: string;
  /** False when the rule could not be evaluated (the data it needs is missing): not counted in scores. */
  evaluated?: false;
}

/** Parts of an asset a rule reads: it is "not evaluated" (never passed or failed) when one is missing. */
export type Needs = "resource" | "iam_policy";

/** A policy rule. */
export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  /** e.g. `CIS GCP 3.6`, `PMO governance`. */
  benchmarks: string[];
  /** Asset types the rule looks at. */
  assetTypes: readonly string[];
  /** What the rule reads (default `["resource"]`). */
  needs?: readonly Needs[];
  evaluate(asset: AssetRecord): Finding | null;
}

/** Plain-object access into `resource.data` without type noise. */
export type Data = Record<string, any>;

/** `resource.data` of an asset, `{}` when absent. */
export function dataOf(a: AssetRecord): Data {
  return (a.data ?? {}) as Data;
}

/** A passing finding. */
export const pass = (message: string): Finding => ({ passed: true, message });
/** A failing finding. */
export const fail = (message: string): Finding => ({ passed: false, message });
/** The rule cannot tell (the data it needs is missing): shown, never counted as a pass or a failure. */
export const notEvaluated = (message: string): Finding => ({ passed: false, message, evaluated: false });

/** Why `rule` cannot be evaluated on `a` (a part it needs is missing), or null when it can. */
export function missingPart(rule: Rule, a: AssetRecord): string | null {
  for (const n of rule.needs ?? ["resource"]) {
    if (n === "resource" && a.data === null) return "no resource data (content type RESOURCE) for this asset";
    if (n === "iam_policy" && a.iam_policy === undefined) {
      return "no IAM policy (content type IAM_POLICY) for this asset";
    }
  }
  return null;
}
