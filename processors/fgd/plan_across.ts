/**
 * Step 4 of ingestion planning: the rules that depend on the rest of the fabric (references, directory-wide
 * rules) re-checked against the final desired state. An object whose referent was deleted (or never existed)
 * warns, whichever run brought it in; objects already in managed/ (checked without context when scanned)
 * that conflict with each other — two Connections on one port, VPCs sharing a VLAN — stay in place and carry
 * the conflict as a warning saying the cluster would reject them.
 *
 * @module
 */
import type { Finding } from "./finding.ts";
import type { KubeObject } from "./object.ts";
import type { ManagedEntry } from "./plan_types.ts";
import type { RuleContext } from "./rule_pack.ts";
import { directoryContext } from "./rule_context.ts";
import { DIRECTORY_RULES } from "./rules_hedgehog_directory.ts";
import type { Validator } from "./validate.ts";
import { type AcrossCache, AcrossRun, newAcrossCache } from "./plan_across_cache.ts";

/** Rule ids whose findings depend on the rest of the fabric: refreshed against the final desired state. */
export const ACROSS_FABRIC: ReadonlySet<string> = new Set([
  "hedgehog.ref.missing",
  ...DIRECTORY_RULES.map((r) => r.id),
]);

/** The rule context over the objects of `entries` (later entries replace earlier ones of the same name). */
export function contextOver(entries: Iterable<{ object: KubeObject }>): RuleContext {
  return directoryContext(Array.from(entries, (e) => e.object));
}

/** An across-fabric error on an object already in managed/ becomes a warning: it stays where it is. */
function asWarning(f: Finding): Finding {
  return f.severity === "error"
    ? {
      ...f,
      severity: "warning" as const,
      message: `${f.message} (in managed/: the cluster would reject it)`,
    }
    : f;
}

/**
 * Replaces the across-fabric findings among each entry's warnings with those of a check against the whole
 * of `desired` (errors demoted to warnings); every other warning is kept. Entries in `cleared` keep the
 * across-fabric findings they have: raw objects of this run that pass 2 checked against these same objects
 * (in their written rather than normalized form, which the rules do not tell apart) and found at most one
 * across-fabric finding on (`plan_recheck_test.ts` plans with and without this shortcut and compares). With `cache` (the fabric's
 * `PlanCache.across`), a managed object's result of an earlier run is taken again while everything its check
 * read of the fabric is unchanged (`plan_across_cache.ts`).
 */
export function refreshAcrossFabric(
  desired: ReadonlyMap<string, ManagedEntry>,
  validator: Validator,
  cleared: ReadonlySet<ManagedEntry> = new Set(),
  cache?: AcrossCache,
): void {
  let run: AcrossRun | undefined;
  const across = (findings: Finding[]) => findings.filter((f) => ACROSS_FABRIC.has(f.rule)).map(asWarning);
  for (const entry of desired.values()) {
    let found: Finding[] | undefined;
    if (cleared.has(entry)) found = across(entry.warnings);
    else {
      run ??= new AcrossRun(contextOver(desired.values()), cache ?? newAcrossCache());
      found = run.cached(entry.object, entry.document) ??
        run.check(
          entry.object,
          entry.document,
          (ctx) => across(validator.validate(entry.object, entry.document, ctx).findings),
          (r) => r,
        );
    }
    entry.warnings = [...entry.warnings.filter((f) => !ACROSS_FABRIC.has(f.rule)), ...found];
  }
}
