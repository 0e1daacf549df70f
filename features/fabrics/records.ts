/**
 * Builds the topic records of a fabric (objects with their three states, unmanaged files, status, results)
 * from the worker's in-memory state. Pure functions.
 */
import type { Draft } from "../../processors/fgd/drafts.ts";
import { compareStates } from "../../processors/fgd/drift.ts";
import type { Finding } from "../../processors/fgd/finding.ts";
import type { KubeObject } from "../../processors/fgd/object.ts";
import type { InvalidManaged, ManagedEntry, Plan, UnmanagedEntry } from "../../processors/fgd/plan_types.ts";
import type { FabricObject, FabricStatus, FgdResult, RunSummary, UnmanagedFile } from "../../schemas/fgd.ts";

/** Identity of an object slot inside a fabric. */
export interface SlotMeta {
  apiVersion: string;
  kind: string;
  plural: string;
  name: string;
  namespace: string | null;
  path: string;
}

/** The desired version of an object (git), with the commit it was read at. */
export type DesiredEntry = ManagedEntry & { commit: string | null };
/** A draft with its slot identity. */
export type DraftEntry = Draft & { meta: SlotMeta };
/** The actual version (cluster). */
export interface ActualEntry {
  meta: SlotMeta;
  object: KubeObject;
  hash: string;
  observed_at: string;
}

/** The slot key of an object inside its fabric: `<plural>/<namespace>/<name>`. */
export function slotKey(plural: string, namespace: string | null | undefined, name: string): string {
  return `${plural}/${namespace ?? ""}/${name}`;
}

/** Slot identity of a managed entry. */
export function metaOf(e: ManagedEntry): SlotMeta {
  return {
    apiVersion: e.apiVersion,
    kind: e.kind,
    plural: e.plural,
    name: e.name,
    namespace: e.namespace ?? null,
    path: e.path,
  };
}

const strip = (f: Finding): Finding => ({ ...f });

/** Every object record of a fabric, keyed `<fabric>/<slot>`. */
export function objectRecords(
  fabric: string,
  desired: ReadonlyMap<string, DesiredEntry>,
  drafts: ReadonlyMap<string, DraftEntry>,
  actual: ReadonlyMap<string, ActualEntry> | null,
  now: string,
): Map<string, FabricObject> {
  const out = new Map<string, FabricObject>();
  const keys = new Set([...desired.keys(), ...drafts.keys(), ...(actual?.keys() ?? [])]);
  for (const key of keys) {
    const d = desired.get(key);
    const dr = drafts.get(key);
    const a = actual?.get(key);
    const meta = d ? metaOf(d) : dr?.meta ?? a!.meta;
    const drift = actual ? compareStates(d?.object, a?.object) : { state: "unknown" as const, fields: [] };
    out.set(`${fabric}/${key}`, {
      fabric,
      ...meta,
      desired: d
        ? {
          object: d.object as Record<string, unknown>,
          hash: d.hash,
          source: d.source,
          document: d.document,
          commit: d.commit,
          warnings: d.warnings.map(strip),
        }
        : null,
      draft: dr
        ? {
          op: dr.op,
          object: dr.object as Record<string, unknown> | null,
          hash: dr.hash,
          base_hash: dr.base_hash,
          state: dr.state,
          author: dr.author,
          created_at: dr.created_at,
          updated_at: dr.updated_at,
          error: dr.error,
        }
        : null,
      conflict: dr?.conflict
        ? { ...dr.conflict, theirs: dr.conflict.theirs as Record<string, unknown> | null }
        : null,
      actual: a
        ? { object: a.object as Record<string, unknown>, hash: a.hash, observed_at: a.observed_at }
        : null,
      drift: !d && !a ? "unknown" : drift.state,
      drift_fields: drift.fields,
      updated_at: now,
    });
  }
  return out;
}

/** Every unmanaged file record of a fabric, keyed `<fabric>:<path>`. */
export function unmanagedRecords(
  fabric: string,
  entries: readonly UnmanagedEntry[],
  now: string,
): Map<string, UnmanagedFile> {
  const out = new Map<string, UnmanagedFile>();
  for (const u of entries) {
    out.set(`${fabric}:${u.path}`, {
      fabric,
      path: u.path,
      reason_path: u.reasonPath ?? null,
      from: u.from ?? null,
      findings: u.findings.map(strip),
      now_valid: !u.findings.some((f) => f.severity === "error"),
      updated_at: now,
    });
  }
  return out;
}

/** Counts for the status record. */
export function counts(
  objects: ReadonlyMap<string, FabricObject>,
  unmanaged: number,
  invalid: readonly InvalidManaged[],
): FabricStatus["counts"] {
  let managed = 0, drafts = 0, conflicts = 0, drift = 0;
  for (const o of objects.values()) {
    if (o.desired) managed++;
    if (o.draft) drafts++;
    if (o.conflict) conflicts++;
    if (o.drift === "differs" || o.drift === "missing" || o.drift === "extra") drift++;
  }
  return { managed, unmanaged, invalid_managed: invalid.length, drafts, conflicts, drift };
}

/** Result events of one run: the run, then one per file and per object. */
export function resultRecords(
  fabric: string,
  syncId: string,
  run: RunSummary,
  plan: Plan | undefined,
  path: string,
): FgdResult[] {
  const at = run.finished_at;
  const commit = run.commit;
  const base = { fabric, sync_id: syncId, commit, at };
  const out: FgdResult[] = [{
    ...base,
    type: "run",
    path,
    document: null,
    outcome: run.outcome,
    targets: [],
    kind: null,
    name: null,
    findings: [],
    run,
  }];
  for (const f of plan?.files ?? []) {
    out.push({
      ...base,
      type: "file",
      path: f.path,
      document: null,
      outcome: f.outcome,
      targets: f.targets,
      kind: null,
      name: null,
      findings: f.findings.map(strip),
      run: null,
    });
  }
  for (const o of plan?.objects ?? []) {
    out.push({
      ...base,
      type: "object",
      path: o.source,
      document: o.document,
      outcome: o.outcome,
      targets: o.path ? [o.path] : [],
      kind: o.kind ?? null,
      name: o.name ?? null,
      findings: o.findings.map(strip),
      run: null,
    });
  }
  return out;
}
