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
import { type Finding, formatFinding, hasErrors } from "./finding.ts";
import {
  isKustomization,
  managedPath,
  README,
  readmeText,
  REASON_SUFFIX,
  SKELETON,
  unmanagedPath,
} from "./layout.ts";
import { describeObject, type KubeObject } from "./object.ts";
import { renderManaged } from "./normalize.ts";
import { DEFAULT_LIMITS, joinDocuments, type ParseLimits } from "./parse_file.ts";
import type { RuleContext } from "./rule_pack.ts";
import { directoryContext } from "./rule_context.ts";
import { DIRECTORY_RULES } from "./rules_hedgehog_directory.ts";
import type { FileResult, InvalidManaged, ManagedEntry, Move, ObjectResult, Plan } from "./plan_types.ts";
import {
  type Candidate,
  managedCandidates,
  managedPaths,
  rawPaths,
  type Rejected,
  scanManagedFile,
  scanRawFile,
  scanUnmanaged,
} from "./plan_scan.ts";
import { copyOf, retire, tidyUnmanaged } from "./plan_unmanaged.ts";
import { blobId, newPlanCache, type PlanCache, type Snapshot } from "./snapshot.ts";
import type { ValidationMemo, Validator } from "./validate.ts";

const REF_MISSING = "hedgehog.ref.missing";
/** Findings that depend on the rest of the fabric: refreshed against the final desired state (step 4). */
const ACROSS_FABRIC: ReadonlySet<string> = new Set([REF_MISSING, ...DIRECTORY_RULES.map((r) => r.id)]);

/** Options of {@link planIngestion}. */
export interface PlanOptions {
  fabricId: string;
  validator: Validator;
  limits?: ParseLimits;
  /** Parse results by blob id from earlier runs of the same fabric and validator. */
  cache?: PlanCache;
}

function lookupOver(entries: Iterable<{ object: KubeObject }>): RuleContext {
  return directoryContext(Array.from(entries, (e) => e.object));
}

/** The reason file written beside an unmanaged file. */
export function reasonText(source: string, findings: readonly Finding[], partial: boolean): string {
  const head = `# lzsync could not ingest ${source}${
    partial ? " (this file holds only its rejected documents; document numbers refer to the original)" : ""
  }.\n# Fix every finding below and move the file back to raw/ to ingest it again.\n`;
  return head + findings.map((f) => `- ${formatFinding(f)}\n`).join("");
}

function finding(rule: string, doc: number, path: string, message: string): Finding {
  return { rule, layer: "ingest", severity: "error", doc, path, message };
}

/** Plans one ingestion run over a snapshot of the fabric directory at the base commit. */
export function planIngestion(snapshot: Snapshot, options: PlanOptions): Plan {
  const { validator } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const cache = options.cache ?? newPlanCache();
  const writes = new Map<string, string | Uint8Array>();
  const deletes = new Set<string>();
  const moves: Move[] = [];
  const files: FileResult[] = [];
  const objects: ObjectResult[] = [];
  const invalidManaged: InvalidManaged[] = [];
  const paths = [...snapshot.keys()].sort();
  const ids = new Map<string | Uint8Array, string>();
  const idOf = (content: string | Uint8Array) => {
    let id = ids.get(content);
    if (id === undefined) ids.set(content, id = blobId(content));
    return id;
  };
  const unchanged = (p: string, content: string | Uint8Array) => snapshot.get(p)?.id === idOf(content);
  const taken = (p: string) => (snapshot.has(p) && !deletes.has(p)) || writes.has(p);

  for (const s of SKELETON) if (!snapshot.has(s)) writes.set(s, "");
  if (!snapshot.has(README)) writes.set(README, readmeText(options.fabricId));

  // A managed file this plan writes parses back to exactly this object: cache it by its blob id.
  const remember = (_path: string, text: string, object: KubeObject, c: Candidate) => {
    cache.managed.set(idOf(text), {
      objects: [{ document: 0, object, crd: c.crd, warnings: c.warnings, comments: c.comments }],
      findings: [],
    });
  };

  // Placement: one canonical path per object; two objects never share a path.
  const pathOwner = new Map<string, string>();
  const place = (c: Candidate): string | Finding => {
    let target: string;
    try {
      const ns = c.object.metadata.namespace ?? (c.crd.scope === "Namespaced" ? "default" : undefined);
      target = managedPath(c.crd.plural, c.object.metadata.name, ns);
    } catch (err) {
      return finding(
        "ingest.path-escape",
        c.document,
        "metadata.name",
        `${(err as Error).message}; use a lowercase RFC 1123 name`,
      );
    }
    const owner = pathOwner.get(target);
    if (owner && owner !== c.key) {
      return finding(
        "ingest.path-collision",
        c.document,
        "kind",
        `${target} already holds ${owner} (two CRDs share the plural ${c.crd.plural}); rename one of the objects`,
      );
    }
    pathOwner.set(target, c.key);
    return target;
  };

  // 1. managed/: the desired state before this run.
  const desired = new Map<string, ManagedEntry>();
  const managedFiles = new Map<string, Candidate[]>();
  const definedIn = new Map<string, string[]>();
  for (const path of managedPaths(paths)) {
    if (!/\.ya?ml$/i.test(path) || isKustomization(path)) {
      files.push({ path, outcome: "ignored", targets: [], findings: [] });
      continue;
    }
    const scan = scanManagedFile(path, snapshot.get(path)!, validator, limits, cache);
    if (hasErrors(scan.findings)) {
      invalidManaged.push({ path, findings: scan.findings });
      files.push({ path, outcome: "invalid-managed", targets: [], findings: scan.findings });
      continue;
    }
    const cands = managedCandidates(path, scan.objects);
    managedFiles.set(path, cands);
    for (const c of cands) definedIn.set(c.key, [...(definedIn.get(c.key) ?? []), path]);
  }
  for (const [path, cands] of managedFiles) {
    const dupes = cands.filter((c) => definedIn.get(c.key)!.length > 1);
    if (!dupes.length) continue;
    const found = dupes.map((c) =>
      finding(
        "ingest.duplicate",
        c.document,
        "metadata.name",
        `${describeObject(c.object)} is defined in ${
          definedIn.get(c.key)!.join(" and ")
        }; keep exactly one definition`,
      )
    );
    invalidManaged.push({ path, findings: found });
    files.push({ path, outcome: "invalid-managed", targets: [], findings: found });
    managedFiles.delete(path);
  }
  for (const [path, cands] of managedFiles) {
    const targets: string[] = [];
    for (const c of cands) {
      const target = place(c);
      if (typeof target !== "string") {
        invalidManaged.push({ path, findings: [target] });
        continue;
      }
      const r = renderManaged(c.object, c.crd, { source: c.source, document: c.document }, c.comments);
      desired.set(c.key, entryOf(c, target, r));
      targets.push(target);
      if (!unchanged(target, r.text)) writes.set(target, r.text);
      remember(target, r.text, r.object, c);
      if (target !== path || cands.length > 1 || !unchanged(path, r.text)) {
        const note = target === path
          ? "normalized"
          : cands.length > 1
          ? "split"
          : "moved to its canonical path";
        moves.push({ from: path, to: target, note });
      }
    }
    if (!targets.includes(path)) deletes.add(path);
    if (targets.length !== 1 || targets[0] !== path || writes.has(path)) {
      files.push({ path, outcome: "normalized", targets, findings: [] });
    }
  }

  // 2. raw/: pass 1 (each document alone), duplicates, pass 2 (cross-object rules).
  const raws = rawPaths(paths);
  const memo: ValidationMemo = new WeakMap(); // pass 2 re-runs only the rule packs on pass 1's objects
  const candidates: Candidate[] = [];
  const rejected = new Map<string, Rejected[]>();
  const fileLevel = new Map<string, Finding[]>();
  const docCount = new Map<string, number>();
  const reject = (source: string, r: Rejected) => rejected.set(source, [...(rejected.get(source) ?? []), r]);
  for (const path of raws) {
    const scan = scanRawFile(path, snapshot.get(path)!, validator, limits, memo);
    if (scan.fileFindings) fileLevel.set(path, scan.fileFindings);
    docCount.set(path, scan.docs);
    candidates.push(...scan.candidates);
    for (const r of scan.rejected) reject(path, r);
  }
  const byKey = new Map<string, Candidate[]>();
  for (const c of candidates) byKey.set(c.key, [...(byKey.get(c.key) ?? []), c]);
  const accepted: Candidate[] = [];
  for (const c of candidates) {
    const group = byKey.get(c.key)!;
    if (group.length === 1) {
      accepted.push(c);
      continue;
    }
    const others = group.filter((o) => o !== c).map((o) => `${o.source} document ${o.document}`);
    reject(c.source, {
      index: c.document,
      text: c.text!,
      findings: [finding(
        "ingest.duplicate",
        c.document,
        "metadata.name",
        `${describeObject(c.object)} is also defined in ${
          others.join(" and ")
        }; keep exactly one definition and drop the file again`,
      )],
    });
  }
  const ctx = lookupOver([...desired.values(), ...accepted]);
  for (const c of accepted) {
    const r = validator.validate(c.object, c.document, ctx, memo);
    if (hasErrors(r.findings)) {
      reject(c.source, { index: c.document, text: c.text!, findings: r.findings });
      continue;
    }
    c.warnings = r.findings;
    const target = place(c);
    if (typeof target !== "string") {
      reject(c.source, { index: c.document, text: c.text!, findings: [target] });
      continue;
    }
    const rendered = renderManaged(c.object, c.crd, { source: c.source, document: c.document }, c.comments);
    const prior = desired.get(c.key);
    if (prior && prior.path !== target) deletes.add(prior.path);
    desired.set(c.key, entryOf(c, target, rendered));
    if (unchanged(target, rendered.text)) writes.delete(target);
    else writes.set(target, rendered.text);
    remember(target, rendered.text, rendered.object, c);
    deletes.delete(target);
    const outcome = prior ? (prior.hash === rendered.hash ? "unchanged" : "updated") : "created";
    moves.push({ from: `${c.source}#${c.document}`, to: target, note: outcome });
    objects.push({
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

  // 3. Each raw file leaves raw/: accepted documents went to managed/, the rest go to unmanaged/.
  const bySource = new Map<string, string[]>();
  for (const e of desired.values()) bySource.set(e.source, [...(bySource.get(e.source) ?? []), e.path]);
  const movedOut: { path: string; reasonPath: string; from: string; findings: Finding[] }[] = [];
  for (const path of raws) {
    deletes.add(path);
    const targets = bySource.get(path) ?? [];
    const level = fileLevel.get(path);
    const bad = (rejected.get(path) ?? []).sort((a, b) => a.index - b.index);
    for (const b of bad) {
      objects.push({ source: path, document: b.index, outcome: "rejected", findings: b.findings });
    }
    if (!level && bad.length === 0) {
      files.push({ path, outcome: "ingested", targets, findings: [] });
      retire(snapshot, path, deletes);
      continue;
    }
    const findings = level ?? bad.flatMap((b) => b.findings);
    const whole = level !== undefined || bad.length === docCount.get(path);
    const to = unmanagedPath(path, (p) => taken(p) && !copyOf(snapshot, p, path));
    writes.set(to, whole ? snapshot.get(path)!.bytes! : joinDocuments(bad.map((b) => b.text)));
    writes.set(to + REASON_SUFFIX, reasonText(path, findings, !whole));
    movedOut.push({ path: to, reasonPath: to + REASON_SUFFIX, from: path, findings });
    moves.push({ from: path, to, note: [...new Set(findings.map((f) => f.rule))].join(", ") });
    files.push({
      path,
      outcome: whole ? "unmanaged" : "partially-ingested",
      targets: [...targets, to],
      findings,
    });
  }

  // 4. References and directory-wide rules across the final desired state: an object whose referent was
  // deleted (or never existed) warns, whichever run brought it in; objects already in managed/ (checked
  // without context when scanned) that conflict with each other — two Connections on one port, VPCs sharing
  // a VLAN — stay in place and carry the conflict as a warning saying the cluster would reject them.
  const finalCtx = lookupOver(desired.values());
  for (const entry of desired.values()) {
    const across = validator.validate(entry.object, entry.document, finalCtx).findings
      .filter((f) => ACROSS_FABRIC.has(f.rule))
      .map((f) =>
        f.severity === "error"
          ? {
            ...f,
            severity: "warning" as const,
            message: `${f.message} (in managed/: the cluster would reject it)`,
          }
          : f
      );
    entry.warnings = [...entry.warnings.filter((f) => !ACROSS_FABRIC.has(f.rule)), ...across];
  }

  // 5. unmanaged/ as it stands after the plan.
  const scanned = scanUnmanaged(snapshot, paths, validator, limits, cache);
  const unmanaged = tidyUnmanaged(snapshot, paths, scanned, movedOut, writes, deletes, reasonText);

  const writeIds = new Map<string, string>();
  for (const [p, content] of writes) {
    if (unchanged(p, content)) writes.delete(p);
    else writeIds.set(p, idOf(content));
  }
  for (const p of deletes) if (!snapshot.has(p) || writes.has(p)) deletes.delete(p);
  return {
    writes,
    writeIds,
    deletes,
    moves,
    files,
    objects,
    desired,
    unmanaged,
    invalidManaged: invalidManaged.filter((i) => !writes.has(i.path) && !deletes.has(i.path)),
    changed: writes.size > 0 || deletes.size > 0,
  };
}

function entryOf(c: Candidate, path: string, r: { object: KubeObject; hash: string }): ManagedEntry {
  return {
    key: c.key,
    path,
    apiVersion: c.object.apiVersion,
    kind: c.object.kind,
    plural: c.crd.plural,
    name: c.object.metadata.name,
    namespace: r.object.metadata.namespace,
    object: r.object,
    hash: r.hash,
    source: c.source,
    document: c.document,
    warnings: c.warnings,
  };
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
