/**
 * Step 1 of ingestion planning: `managed/` as the desired state before this run. Each managed file is read
 * through the parse cache; files that are not YAML resources are ignored, invalid ones stay in place and are
 * reported, an object defined in two files is rejected in both, and the rest is brought to canonical form and
 * path (multi-document files are split).
 *
 * @module
 */
import { type Finding, hasErrors } from "./finding.ts";
import { isKustomization } from "./layout.ts";
import { describeObject } from "./object.ts";
import type { ParseLimits } from "./parse_file.ts";
import { type Candidate, managedCandidates, managedPaths, scanManagedFile } from "./plan_scan.ts";
import { ingestFinding, managedEntry, type WorkingPlan } from "./plan_work.ts";
import type { Validator } from "./validate.ts";

/**
 * Parses every managed file (no cross-object context) and returns the candidates of the valid ones by path,
 * in path order. Non-YAML files and kustomizations are recorded as `ignored`, invalid files as
 * `invalid-managed`.
 */
export function scanManaged(
  work: WorkingPlan,
  paths: readonly string[],
  validator: Validator,
  limits: ParseLimits,
): Map<string, Candidate[]> {
  const managedFiles = new Map<string, Candidate[]>();
  for (const path of managedPaths(paths)) {
    if (!/\.ya?ml$/i.test(path) || isKustomization(path)) {
      work.files.push({ path, outcome: "ignored", targets: [], findings: [] });
      continue;
    }
    const scan = scanManagedFile(path, work.snapshot.get(path)!, validator, limits, work.cache);
    if (hasErrors(scan.findings)) {
      work.invalidManaged.push({ path, findings: scan.findings });
      work.files.push({ path, outcome: "invalid-managed", targets: [], findings: scan.findings });
      continue;
    }
    managedFiles.set(path, managedCandidates(path, scan.objects));
  }
  return managedFiles;
}

/**
 * The cross-file rule of managed/: an object defined in more than one file. Returns, for each file holding
 * such a definition, one `ingest.duplicate` finding per duplicated object naming every file that defines it
 * (pure; files in the order of `managedFiles`).
 */
export function managedDuplicates(managedFiles: ReadonlyMap<string, Candidate[]>): Map<string, Finding[]> {
  const definedIn = new Map<string, string[]>();
  for (const [path, cands] of managedFiles) {
    for (const c of cands) definedIn.set(c.key, [...(definedIn.get(c.key) ?? []), path]);
  }
  const out = new Map<string, Finding[]>();
  for (const [path, cands] of managedFiles) {
    const dupes = cands.filter((c) => definedIn.get(c.key)!.length > 1);
    if (!dupes.length) continue;
    out.set(
      path,
      dupes.map((c) =>
        ingestFinding(
          "ingest.duplicate",
          c.document,
          "metadata.name",
          `${describeObject(c.object)} is defined in ${
            definedIn.get(c.key)!.join(" and ")
          }; keep exactly one definition`,
        )
      ),
    );
  }
  return out;
}

/** Rejects every managed file with a duplicated object (left in place, reported) and drops it from `managedFiles`. */
export function rejectManagedDuplicates(work: WorkingPlan, managedFiles: Map<string, Candidate[]>): void {
  for (const [path, found] of managedDuplicates(managedFiles)) {
    work.invalidManaged.push({ path, findings: found });
    work.files.push({ path, outcome: "invalid-managed", targets: [], findings: found });
    managedFiles.delete(path);
  }
}

/**
 * Brings each valid managed file to canonical form and path: every object enters the desired state at its
 * canonical path (written when its normalized text differs), a file left with no object at its own path is
 * deleted, and each move, split or normalization is recorded. An object that cannot be placed is reported
 * as an invalid managed file.
 */
export function normalizeManaged(work: WorkingPlan, managedFiles: ReadonlyMap<string, Candidate[]>): void {
  for (const [path, cands] of managedFiles) {
    const targets: string[] = [];
    for (const c of cands) {
      const target = work.place(c);
      if (typeof target !== "string") {
        work.invalidManaged.push({ path, findings: [target] });
        continue;
      }
      const r = work.render(c);
      work.desired.set(c.key, managedEntry(c, target, r));
      targets.push(target);
      if (!work.unchanged(target, r.text)) work.writes.set(target, r.text);
      work.remember(r, c);
      if (target !== path || cands.length > 1 || !work.unchanged(path, r.text)) {
        const note = target === path
          ? "normalized"
          : cands.length > 1
          ? "split"
          : "moved to its canonical path";
        work.moves.push({ from: path, to: target, note });
      }
    }
    if (!targets.includes(path)) work.deletes.add(path);
    if (targets.length !== 1 || targets[0] !== path || work.writes.has(path)) {
      work.files.push({ path, outcome: "normalized", targets, findings: [] });
    }
  }
}
