/**
 * The plan while it is being built (`plan.ts`): what each step of `planIngestion` adds to, plus the
 * two rules every step shares — a write that would leave a file as it is, is no write (blob ids decide), and
 * every object gets one canonical path in managed/ that no other object holds.
 *
 * @module
 */
import type { Finding } from "./finding.ts";
import { managedPath } from "./layout.ts";
import { renderManaged } from "./normalize.ts";
import type { KubeObject } from "./object.ts";
import type { Candidate } from "./plan_scan.ts";
import type {
  FileResult,
  InvalidManaged,
  ManagedEntry,
  Move,
  ObjectResult,
  Plan,
  UnmanagedEntry,
} from "./plan_types.ts";
import { blobId, type PlanCache, type Snapshot } from "./snapshot.ts";

/** An error finding of the ingest layer (duplicates, path problems) on one document. */
export function ingestFinding(rule: string, doc: number, path: string, message: string): Finding {
  return { rule, layer: "ingest", severity: "error", doc, path, message };
}

/** The desired-state entry of a candidate placed at `path`, from its rendered form. */
export function managedEntry(
  c: Candidate,
  path: string,
  r: { object: KubeObject; hash: string },
): ManagedEntry {
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

/**
 * The accumulating plan over one snapshot. Steps add writes, deletes, moves and results in the order the
 * commit message and the API report them; {@link WorkingPlan.finish} drops the no-op ones.
 */
export class WorkingPlan {
  /** Fabric-relative path → content to write (may still hold no-op writes until {@link finish}). */
  readonly writes = new Map<string, string | Uint8Array>();
  readonly deletes = new Set<string>();
  readonly moves: Move[] = [];
  readonly files: FileResult[] = [];
  readonly objects: ObjectResult[] = [];
  readonly invalidManaged: InvalidManaged[] = [];
  /** Desired state by object key: managed/ as found, then updated by each accepted raw document. */
  readonly desired = new Map<string, ManagedEntry>();
  /** Blob ids by content (the same string or buffer is hashed once). */
  readonly #ids = new Map<string | Uint8Array, string>();
  /** Canonical path → key of the object placed there. */
  readonly #pathOwner = new Map<string, string>();

  constructor(readonly snapshot: Snapshot, readonly cache: PlanCache) {}

  /** The git blob id of `content`, computed once per content value. */
  idOf(content: string | Uint8Array): string {
    let id = this.#ids.get(content);
    if (id === undefined) this.#ids.set(content, id = blobId(content));
    return id;
  }

  /** Records the blob id of `content`, known from an earlier run (see {@link PlanCache.rendered}). */
  knownId(content: string, id: string): void {
    this.#ids.set(content, id);
  }

  /**
   * {@link renderManaged} of a candidate, through {@link PlanCache.rendered} for a managed candidate: a
   * cached object rendered with the same provenance before renders to the same text.
   */
  render(c: Candidate): { object: KubeObject; hash: string; text: string } {
    const memo = c.cached && this.cache.rendered.get(c.cached);
    if (memo && memo.source === c.source && memo.document === c.document) {
      this.knownId(memo.text, memo.id);
      return memo;
    }
    const r = renderManaged(c.object, c.crd, { source: c.source, document: c.document }, c.comments);
    if (c.cached) {
      this.cache.rendered.set(c.cached, {
        source: c.source,
        document: c.document,
        ...r,
        id: this.idOf(r.text),
      });
    }
    return r;
  }

  /** True when `path` already holds exactly `content` in the snapshot. */
  unchanged(path: string, content: string | Uint8Array): boolean {
    return this.snapshot.get(path)?.id === this.idOf(content);
  }

  /** True when `path` will hold a file after the plan as it stands (kept from the snapshot or written). */
  taken(path: string): boolean {
    return (this.snapshot.has(path) && !this.deletes.has(path)) || this.writes.has(path);
  }

  /**
   * A managed file this plan writes parses back to exactly `r.object`, which is already in normalized form:
   * cache it by the blob id of `r.text`, with `r` as its normalized form (rendered with the candidate's
   * provenance, which its annotations carry), so the next run neither reads, parses nor renders it.
   */
  remember(r: { object: KubeObject; hash: string; text: string }, c: Candidate): void {
    const { text, object } = r;
    const id = this.idOf(text);
    // the entry this very object came from (directly, or as the normalized form of its cached object) stays,
    // so that its normalized form stays cached with it
    const had = this.cache.managed.get(id);
    const o = had && had.objects.length === 1 && had.findings.length === 0 ? had.objects[0] : undefined;
    if (
      o && o.document === 0 && (o.object === object || this.cache.rendered.get(o)?.object === object) &&
      o.crd === c.crd && o.warnings === c.warnings && o.comments === c.comments
    ) return;
    const cached = { document: 0, object, crd: c.crd, warnings: c.warnings, comments: c.comments };
    this.cache.managed.set(id, { objects: [cached], findings: [] });
    this.cache.rendered.set(cached, { source: c.source, document: c.document, ...r, id });
  }

  /**
   * The canonical managed/ path of a candidate, claimed for its key; or the finding saying why it has none
   * (a name that escapes the directory, or a path another object already holds).
   */
  place(c: Candidate): string | Finding {
    let target: string;
    try {
      const ns = c.object.metadata.namespace ?? (c.crd.scope === "Namespaced" ? "default" : undefined);
      target = managedPath(c.crd.plural, c.object.metadata.name, ns);
    } catch (err) {
      return ingestFinding(
        "ingest.path-escape",
        c.document,
        "metadata.name",
        `${(err as Error).message}; use a lowercase RFC 1123 name`,
      );
    }
    const owner = this.#pathOwner.get(target);
    if (owner && owner !== c.key) {
      return ingestFinding(
        "ingest.path-collision",
        c.document,
        "kind",
        `${target} already holds ${owner} (two CRDs share the plural ${c.crd.plural}); rename one of the objects`,
      );
    }
    this.#pathOwner.set(target, c.key);
    return target;
  }

  /**
   * The finished plan: writes that change nothing and deletes of files that are absent (or rewritten) are
   * dropped, each write's blob id is recorded, and only invalid managed files the plan leaves in place are
   * reported.
   */
  finish(unmanaged: UnmanagedEntry[]): Plan {
    const { writes, deletes } = this;
    const writeIds = new Map<string, string>();
    for (const [p, content] of writes) {
      if (this.unchanged(p, content)) writes.delete(p);
      else writeIds.set(p, this.idOf(content));
    }
    for (const p of deletes) if (!this.snapshot.has(p) || writes.has(p)) deletes.delete(p);
    return {
      writes,
      writeIds,
      deletes,
      moves: this.moves,
      files: this.files,
      objects: this.objects,
      desired: this.desired,
      unmanaged,
      invalidManaged: this.invalidManaged.filter((i) => !writes.has(i.path) && !deletes.has(i.path)),
      changed: writes.size > 0 || deletes.size > 0,
    };
  }
}
