/**
 * Reading a snapshot for the planner: the documents of `managed/` files (cached by blob id across runs),
 * the documents of `raw/` files, and the current findings of `unmanaged/` files.
 */
import { type Finding, hasErrors } from "./finding.ts";
import { isYamlPath, KEEP, MANAGED, notAResource, RAW, REASON_SUFFIX, UNMANAGED } from "./layout.ts";
import { type KubeObject, objectKey } from "./object.ts";
import type { CrdKind } from "./crd.ts";
import { type Comments, extractComments } from "./comments.ts";
import { provenanceOf } from "./normalize.ts";
import { type ParseLimits, parseYamlFile } from "./parse_file.ts";
import type { CachedObject, FileRef, PlanCache, Snapshot } from "./snapshot.ts";
import type { ValidationMemo, Validator } from "./validate.ts";
import { ACROSS_FABRIC, contextOver } from "./plan_across.ts";
import type { ManagedEntry } from "./plan_types.ts";
import type { RuleContext } from "./rule_pack.ts";

/** A valid document ready to be placed in managed/. */
export interface Candidate {
  /** Provenance: fabric-relative source file and document index. */
  source: string;
  document: number;
  object: KubeObject;
  crd: CrdKind;
  key: string;
  warnings: Finding[];
  /** Source text (raw documents), to move it to unmanaged/ if a later check rejects it. */
  text?: string;
  /** User comments of the source document, kept in the managed file. */
  comments?: Comments;
  /** The parse-cache record a managed candidate comes from (its normalized form is cached with it). */
  cached?: CachedObject;
}

/** A rejected raw document. */
export interface Rejected {
  index: number;
  text: string;
  findings: Finding[];
}

/** The identity key after namespace defaulting (a namespaced kind without namespace is in `default`). */
export function keyOf(obj: KubeObject, crd: CrdKind): string {
  if (obj.metadata.namespace !== undefined || crd.scope !== "Namespaced") return objectKey(obj);
  return objectKey({ ...obj, metadata: { ...obj.metadata, namespace: "default" } });
}

function bytesOf(path: string, f: FileRef): Uint8Array {
  if (!f.bytes) {
    throw new RangeError(`planner needs the content of ${path} (blob ${f.id}) but it was not read`);
  }
  return f.bytes;
}

/** Parses and validates one managed file (no cross-object context), through the cache. */
export function scanManagedFile(
  path: string,
  f: FileRef,
  validator: Validator,
  limits: ParseLimits,
  cache: PlanCache,
): { objects: CachedObject[]; findings: Finding[] } {
  const hit = cache.managed.get(f.id);
  if (hit) return hit;
  const why = notAResource(path);
  if (why) {
    const result = {
      objects: [],
      findings: [{
        rule: "ingest.not-a-resource",
        layer: "ingest" as const,
        severity: "error" as const,
        doc: -1,
        path: "",
        message: why,
      }],
    };
    cache.managed.set(f.id, result);
    return result;
  }
  const parsed = parseYamlFile(bytesOf(path, f), limits);
  const findings = [...parsed.fileFindings];
  const objects: CachedObject[] = [];
  for (const d of parsed.docs) {
    findings.push(...d.findings);
    if (d.findings.length) continue;
    const r = validator.validate(d.value, d.index);
    if (hasErrors(r.findings) || !r.object || !r.crd) findings.push(...r.findings);
    else {
      const comments = extractComments(d.text, parsed.plain);
      objects.push({ document: d.index, object: r.object, crd: r.crd, warnings: r.findings, comments });
    }
  }
  const result = { objects, findings };
  cache.managed.set(f.id, result);
  return result;
}

/** Candidates of a valid managed file; provenance comes from its annotations when it has them. */
export function managedCandidates(path: string, objects: CachedObject[]): Candidate[] {
  return objects.map((o) => {
    const prov = provenanceOf(o.object);
    return {
      source: prov?.source ?? path,
      document: prov?.source ? prov.document : o.document,
      object: o.object,
      crd: o.crd,
      key: keyOf(o.object, o.crd),
      warnings: o.warnings,
      comments: o.comments,
      cached: o,
    };
  });
}

/** Raw file paths (everything under raw/ but the keep file), sorted. */
export function rawPaths(paths: readonly string[]): string[] {
  return paths.filter((p) => p.startsWith(RAW) && p !== RAW + KEEP);
}

/** Managed file paths, sorted. */
export function managedPaths(paths: readonly string[]): string[] {
  return paths.filter((p) => p.startsWith(MANAGED) && !p.endsWith(`/${KEEP}`));
}

/** Parses one raw file: its valid candidates (pass 1), rejected documents, or file-level findings. */
export function scanRawFile(
  path: string,
  f: FileRef,
  validator: Validator,
  limits: ParseLimits,
  memo?: ValidationMemo,
): { candidates: Candidate[]; rejected: Rejected[]; fileFindings?: Finding[]; docs: number } {
  if (!isYamlPath(path)) {
    return {
      candidates: [],
      rejected: [],
      docs: 0,
      fileFindings: [{
        rule: "ingest.not-yaml",
        layer: "ingest",
        severity: "error",
        doc: -1,
        path: "",
        message: "only .yaml and .yml files are ingested; this file is out of scope",
      }],
    };
  }
  const why = notAResource(path);
  if (why) {
    return {
      candidates: [],
      rejected: [],
      docs: 0,
      fileFindings: [{
        rule: "ingest.not-a-resource",
        layer: "ingest",
        severity: "error",
        doc: -1,
        path: "",
        message: why,
      }],
    };
  }
  const parsed = parseYamlFile(bytesOf(path, f), limits);
  if (parsed.fileFindings.length) {
    return { candidates: [], rejected: [], docs: 0, fileFindings: parsed.fileFindings };
  }
  const candidates: Candidate[] = [];
  const rejected: Rejected[] = [];
  for (const d of parsed.docs) {
    if (d.findings.length) {
      rejected.push({ index: d.index, text: d.text, findings: d.findings });
      continue;
    }
    const r = validator.validate(d.value, d.index, {}, memo);
    if (hasErrors(r.findings) || !r.object || !r.crd) {
      rejected.push({ index: d.index, text: d.text, findings: r.findings });
      continue;
    }
    candidates.push({
      source: path,
      document: d.index,
      object: r.object,
      crd: r.crd,
      key: keyOf(r.object, r.crd),
      warnings: r.findings,
      text: d.text,
      comments: extractComments(d.text, parsed.plain),
    });
  }
  return { candidates, rejected, docs: parsed.docs.length };
}

/**
 * Current findings of each unmanaged file (empty when it would pass now). Its parse is cached by blob id; its
 * documents are validated every run against the final desired state, as a raw file would be (a rule may look
 * at the rest of the fabric), so a file rejected for a VLAN another VPC holds keeps its reason until that VPC
 * goes.
 */
export function scanUnmanaged(
  snapshot: Snapshot,
  paths: readonly string[],
  validator: Validator,
  limits: ParseLimits,
  cache: PlanCache,
  desired: ReadonlyMap<string, ManagedEntry>,
): { path: string; reasonPath?: string; findings: Finding[] }[] {
  const out = [];
  let ctx: RuleContext | undefined;
  for (const path of paths) {
    if (!path.startsWith(UNMANAGED) || path.endsWith(REASON_SUFFIX) || path === UNMANAGED + KEEP) continue;
    const f = snapshot.get(path)!;
    let alone = cache.unmanaged.get(f.id);
    if (!alone) {
      alone = { findings: [], docs: [] };
      if (!isYamlPath(path)) {
        alone.findings.push({
          rule: "ingest.not-yaml",
          layer: "ingest",
          severity: "error",
          doc: -1,
          path: "",
          message: "only .yaml and .yml files are ingested",
        });
      } else if (notAResource(path)) {
        alone.findings.push({
          rule: "ingest.not-a-resource",
          layer: "ingest",
          severity: "error",
          doc: -1,
          path: "",
          message: notAResource(path)!,
        });
      } else {
        const parsed = parseYamlFile(bytesOf(path, f), limits);
        alone.findings.push(...parsed.fileFindings);
        for (const d of parsed.docs) {
          if (d.findings.length) {
            alone.findings.push(...d.findings);
            continue;
          }
          alone.docs.push({ value: d.value, index: d.index });
        }
      }
      cache.unmanaged.set(f.id, alone);
    }
    const findings = [...alone.findings];
    for (const d of alone.docs) {
      ctx ??= contextOver(desired.values());
      // a reference the fabric does not hold is a warning a raw file would pass with: not a reason to stay
      findings.push(
        ...validator.validate(d.value, d.index, ctx).findings.filter((x) =>
          x.severity === "error" || !ACROSS_FABRIC.has(x.rule)
        ),
      );
    }
    const reason = path + REASON_SUFFIX;
    out.push({ path, reasonPath: snapshot.has(reason) ? reason : undefined, findings });
  }
  return out;
}
