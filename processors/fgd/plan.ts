/**
 * Ingestion planning (pure): from a snapshot of a fabric directory to the files to write and delete.
 *
 * - `raw/**` YAML, multi-document: every valid object → `managed/<kind-plural>/<name>.yaml` (normalized,
 *   provenance-annotated); invalid documents → `unmanaged/<file>` (source text kept) plus a sibling
 *   `.reason.txt`; the raw file is removed. Other files in `raw/` are out of scope and move to `unmanaged/`.
 * - the same object defined twice in one run: every definition is rejected, each naming the others.
 * - `managed/**`: valid files are brought to canonical form and path (multi-document files are split);
 *   invalid ones are left in place and reported — lzsync never silently removes desired state.
 * - `unmanaged/**`: left in place, re-validated so the API can say what still fails.
 * - the skeleton (`raw/`, `unmanaged/`, `managed/`, README) is created when missing.
 */
import { README, readmeText, SKELETON } from "./layout.ts";
import { DEFAULT_LIMITS, type ParseLimits } from "./parse_file.ts";
import { refreshAcrossFabric } from "./plan_across.ts";
import { normalizeManaged, rejectManagedDuplicates, scanManaged } from "./plan_managed.ts";
import { acceptRaw, addRejected, rawDuplicates, retireRaw, scanRaw } from "./plan_raw.ts";
import { rawPaths, scanUnmanaged } from "./plan_scan.ts";
import type { Plan } from "./plan_types.ts";
import { reasonText, tidyUnmanaged } from "./plan_unmanaged.ts";
import { WorkingPlan } from "./plan_work.ts";
import { blobId, newPlanCache, type PlanCache, type Snapshot } from "./snapshot.ts";
import type { ValidationMemo, Validator } from "./validate.ts";

export { reasonText };

/** Options of {@link planIngestion}. */
export interface PlanOptions {
  fabricId: string;
  validator: Validator;
  limits?: ParseLimits;
  /** Parse results by blob id from earlier runs of the same fabric and validator. */
  cache?: PlanCache;
  /**
   * Step 4 checks every desired object again, also the raw objects pass 2 cleared against the same objects
   * (see {@link acceptRaw}) and the managed ones whose result of an earlier run still holds
   * (`plan_across_cache.ts`). Off by default; the tests plan with and without it and compare
   * (`plan_recheck_test.ts`).
   */
  recheckAll?: boolean;
}

/** Step 0: the skeleton (`raw/`, `unmanaged/`, `managed/` keep files and the README) where it is missing. */
export function addSkeleton(work: WorkingPlan, fabricId: string): void {
  for (const s of SKELETON) if (!work.snapshot.has(s)) work.writes.set(s, "");
  if (!work.snapshot.has(README)) work.writes.set(README, readmeText(fabricId));
}

/** Plans one ingestion run over a snapshot of the fabric directory at the base commit. */
export function planIngestion(snapshot: Snapshot, options: PlanOptions): Plan {
  const { validator } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const work = new WorkingPlan(snapshot, options.cache ?? newPlanCache());
  const paths = [...snapshot.keys()].sort();
  addSkeleton(work, options.fabricId);

  // 1. managed/: the desired state before this run.
  const managedFiles = scanManaged(work, paths, validator, limits);
  rejectManagedDuplicates(work, managedFiles);
  normalizeManaged(work, managedFiles);

  // 2. raw/: pass 1 (each document alone), duplicates, pass 2 (cross-object rules).
  const raws = rawPaths(paths);
  const memo: ValidationMemo = new WeakMap(); // pass 2 re-runs only the rule packs on pass 1's objects
  const scan = scanRaw(snapshot, raws, validator, limits, memo);
  const { accepted, rejected } = rawDuplicates(scan.candidates);
  for (const r of rejected) addRejected(scan.rejected, r.source, r.rejected);
  const cleared = acceptRaw(work, accepted, scan.rejected, validator, memo);

  // 3. Each raw file leaves raw/: accepted documents went to managed/, the rest go to unmanaged/.
  const movedOut = retireRaw(work, raws, scan);

  // 4. References and directory-wide rules across the final desired state.
  if (options.recheckAll) refreshAcrossFabric(work.desired, validator);
  else refreshAcrossFabric(work.desired, validator, cleared, work.cache.across);

  // 5. unmanaged/ as it stands after the plan.
  const scanned = scanUnmanaged(snapshot, paths, validator, limits, work.cache, work.desired);
  const unmanaged = tidyUnmanaged(snapshot, paths, scanned, movedOut, work.writes, work.deletes, reasonText);
  return work.finish(unmanaged);
}

/** The snapshot after a plan is applied (tests, dry runs, benchmarks). */
export function applyPlan(snapshot: Snapshot, plan: Plan): Map<string, { id: string; bytes?: Uint8Array }> {
  const enc = new TextEncoder();
  const out = new Map(snapshot);
  for (const p of plan.deletes) out.delete(p);
  for (const [p, c] of plan.writes) {
    const bytes = typeof c === "string" ? enc.encode(c) : c;
    out.set(p, { id: blobId(bytes), bytes });
  }
  return out;
}
