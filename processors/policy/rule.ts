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
}

/** A policy rule. */
export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  /** e.g. `CIS GCP 3.6`, `PMO governance`. */
  benchmarks: string[];
  /** Asset types the rule looks at. */
  assetTypes: readonly string[];
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
