/**
 * Steps 2 and 3 of ingestion planning: `raw/` drops. Pass 1 parses and validates each document alone; an
 * object defined twice in the run is rejected in every definition; pass 2 checks the rest against the
 * desired state (cross-object rules) and places it in managed/. Then each raw file leaves raw/: accepted
 * documents went to managed/, the rest go to unmanaged/ with a reason file.
 *
 * @module
 */
import { type Finding, hasErrors } from "./finding.ts";
import { REASON_SUFFIX, unmanagedPath } from "./layout.ts";
import { describeObject } from "./object.ts";
import { renderManaged } from "./normalize.ts";
import { joinDocuments, type ParseLimits } from "./parse_file.ts";
import { ACROSS_FABRIC, contextOver } from "./plan_across.ts";
import { type Candidate, type Rejected, scanRawFile } from "./plan_scan.ts";
import type { ManagedEntry, UnmanagedEntry } from "./plan_types.ts";
import { copyOf, reasonText, retire } from "./plan_unmanaged.ts";
import { ingestFinding, managedEntry, type WorkingPlan } from "./plan_work.ts";
import type { Snapshot } from "./snapshot.ts";
import type { ValidationMemo, Validator } from "./validate.ts";

/** Pass 1 over the raw files: what each document is on its own. */
export interface RawScan {
  /** Documents valid on their own, in file and document order. */
  candidates: Candidate[];
  /** Rejected documents by raw file (pass 1, then duplicates and pass 2 add to it). */
  rejected: Map<string, Rejected[]>;
  /** Findings that reject a whole file (not YAML, not a resource, unparseable), by raw file. */
  fileLevel: Map<string, Finding[]>;
  /** Number of documents of each raw file. */
  docCount: Map<string, number>;
}

/** Records a rejected document of the raw file `source`. */
export function addRejected(rejected: Map<string, Rejected[]>, source: string, r: Rejected): void {
  rejected.set(source, [...(rejected.get(source) ?? []), r]);
}

/** Pass 1: parses and validates each document of each raw file alone (no cross-object context). */
export function scanRaw(
  snapshot: Snapshot,
  raws: readonly string[],
  validator: Validator,
  limits: ParseLimits,
  memo: ValidationMemo,
): RawScan {
  const out: RawScan = { candidates: [], rejected: new Map(), fileLevel: new Map(), docCount: new Map() };
  for (const path of raws) {
    const scan = scanRawFile(path, snapshot.get(path)!, validator, limits, memo);
    if (scan.fileFindings) out.fileLevel.set(path, scan.fileFindings);
    out.docCount.set(path, scan.docs);
    out.candidates.push(...scan.candidates);
    for (const r of scan.rejected) addRejected(out.rejected, path, r);
  }
  return out;
}

/**
 * The same object defined twice in one run: every definition is rejected, each naming the others (pure).
 * Returns the candidates defined once and the rejections, both in candidate order.
 */
export function rawDuplicates(
  candidates: readonly Candidate[],
): { accepted: Candidate[]; rejected: { source: string; rejected: Rejected }[] } {
  const byKey = new Map<string, Candidate | Candidate[]>(); // one candidate, or every one of a key defined twice
  for (const c of candidates) {
    const had = byKey.get(c.key);
    byKey.set(c.key, had === undefined ? c : Array.isArray(had) ? [...had, c] : [had, c]);
  }
  const accepted: Candidate[] = [];
  const rejected: { source: string; rejected: Rejected }[] = [];
  for (const c of candidates) {
    const group = byKey.get(c.key)!;
    if (!Array.isArray(group)) {
      accepted.push(c);
      continue;
    }
    const others = group.filter((o) => o !== c).map((o) => `${o.source} document ${o.document}`);
    rejected.push({
      source: c.source,
      rejected: {
        index: c.document,
        text: c.text!,
        findings: [ingestFinding(
          "ingest.duplicate",
          c.document,
          "metadata.name",
          `${describeObject(c.object)} is also defined in ${
            others.join(" and ")
          }; keep exactly one definition and drop the file again`,
        )],
      },
    });
  }
  return { accepted, rejected };
}

/**
 * Pass 2: checks each accepted candidate against the desired state plus the other accepted candidates, and
 * places the valid ones in managed/ (replacing an earlier version of the same object, moving it when its
 * path changed). Rejections go to `rejected`; each accepted object is reported created, updated or unchanged.
 *
 * Returns the entries placed here with at most one across-fabric finding (so that their order cannot differ)
 * when pass 2 rejected none of the candidates (empty otherwise): the final desired state then holds the
 * objects each was checked against, so step 4 ({@link refreshAcrossFabric}) need not check them again.
 */
export function acceptRaw(
  work: WorkingPlan,
  accepted: readonly Candidate[],
  rejected: Map<string, Rejected[]>,
  validator: Validator,
  memo: ValidationMemo,
): ReadonlySet<ManagedEntry> {
  const ctx = contextOver([...work.desired.values(), ...accepted]);
  const cleared = new Set<ManagedEntry>();
  let rejects = 0;
  for (const c of accepted) {
    const r = validator.validate(c.object, c.document, ctx, memo);
    if (hasErrors(r.findings)) {
      addRejected(rejected, c.source, { index: c.document, text: c.text!, findings: r.findings });
      rejects++;
      continue;
    }
    c.warnings = r.findings;
    const target = work.place(c);
    if (typeof target !== "string") {
      addRejected(rejected, c.source, { index: c.document, text: c.text!, findings: [target] });
      rejects++;
      continue;
    }
    const rendered = renderManaged(c.object, c.crd, { source: c.source, document: c.document }, c.comments);
    const prior = work.desired.get(c.key);
    if (prior && prior.path !== target) work.deletes.add(prior.path);
    const entry = managedEntry(c, target, rendered);
    work.desired.set(c.key, entry);
    if (r.findings.filter((f) => ACROSS_FABRIC.has(f.rule)).length <= 1) cleared.add(entry);
    if (work.unchanged(target, rendered.text)) work.writes.delete(target);
    else work.writes.set(target, rendered.text);
    work.remember(rendered, c);
    work.deletes.delete(target);
    const outcome = prior ? (prior.hash === rendered.hash ? "unchanged" : "updated") : "created";
    work.moves.push({ from: `${c.source}#${c.document}`, to: target, note: outcome });
    work.objects.push({
      key: c.key,
      kind: c.object.kind,
      name: c.object.metadata.name,
      source: c.source,
      document: c.document,
      outcome,
      path: target,
      hash: rendered.hash,
      findings: r.findings,
    });
  }
  return rejects ? new Set() : cleared;
}

/**
 * Step 3: each raw file leaves raw/. A file whose every document was accepted is `ingested` (and retires the
 * unmanaged copy of an earlier failed drop); otherwise the whole file, or only its rejected documents, moves
 * to unmanaged/ beside a reason file. Returns the unmanaged entries this plan adds.
 */
export function retireRaw(work: WorkingPlan, raws: readonly string[], scan: RawScan): UnmanagedEntry[] {
  const { snapshot } = work;
  const bySource = new Map<string, string[]>();
  for (const e of work.desired.values()) bySource.set(e.source, [...(bySource.get(e.source) ?? []), e.path]);
  const movedOut: { path: string; reasonPath: string; from: string; findings: Finding[] }[] = [];
  for (const path of raws) {
    work.deletes.add(path);
    const targets = bySource.get(path) ?? [];
    const level = scan.fileLevel.get(path);
    const bad = (scan.rejected.get(path) ?? []).sort((a, b) => a.index - b.index);
    for (const b of bad) {
      work.objects.push({ source: path, document: b.index, outcome: "rejected", findings: b.findings });
    }
    if (!level && bad.length === 0) {
      work.files.push({ path, outcome: "ingested", targets, findings: [] });
      retire(snapshot, path, work.deletes);
      continue;
    }
    const findings = level ?? bad.flatMap((b) => b.findings);
    const whole = level !== undefined || bad.length === scan.docCount.get(path);
    const to = unmanagedPath(path, (p) => work.taken(p) && !copyOf(snapshot, p, path));
    work.writes.set(to, whole ? snapshot.get(path)!.bytes! : joinDocuments(bad.map((b) => b.text)));
    work.writes.set(to + REASON_SUFFIX, reasonText(path, findings, !whole));
    movedOut.push({ path: to, reasonPath: to + REASON_SUFFIX, from: path, findings });
    work.moves.push({ from: path, to, note: [...new Set(findings.map((f) => f.rule))].join(", ") });
    work.files.push({
      path,
      outcome: whole ? "unmanaged" : "partially-ingested",
      targets: [...targets, to],
      findings,
    });
  }
  return movedOut;
}
