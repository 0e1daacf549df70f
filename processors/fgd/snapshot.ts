/**
 * A fabric directory snapshot as the planner sees it: path → git blob id (+ the bytes when they were read).
 * Blob ids make "unchanged" checks and parse caching free: a managed file whose blob id is in the
 * {@link PlanCache} is neither read nor parsed again.
 */
import { createHash, hash } from "node:crypto";
import type { Finding } from "./finding.ts";
import type { KubeObject } from "./object.ts";
import type { CrdKind } from "./crd.ts";
import type { Comments } from "./comments.ts";
import { type AcrossCache, newAcrossCache } from "./plan_across_cache.ts";

/** One file of a snapshot. `bytes` may be absent for managed files whose blob id is cached. */
export interface FileRef {
  /** Git blob id (sha1 of `blob <len>\0<content>`). */
  id: string;
  bytes?: Uint8Array;
}

/** Fabric-relative path → file. */
export type Snapshot = ReadonlyMap<string, FileRef>;

const enc = new TextEncoder();

/** Anything but newlines and printable ASCII (such text takes the general path: its UTF-8 length differs, or may). */
const NOT_PRINTABLE_ASCII = /[^\n -~]/;

/** The git blob id of some content. */
export function blobId(content: string | Uint8Array): string {
  if (typeof content === "string" && !NOT_PRINTABLE_ASCII.test(content)) {
    // ASCII text: its length is its UTF-8 length, and one native call hashes header and text (a rendered
    // managed file usually; createHash + two updates + digest cost twice as much per file)
    return hash("sha1", `blob ${content.length}\0${content}`, "hex");
  }
  const bytes = typeof content === "string" ? enc.encode(content) : content;
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** A file reference for in-memory content. */
export function fileRef(content: string | Uint8Array): FileRef {
  const bytes = typeof content === "string" ? enc.encode(content) : content;
  return { id: blobId(bytes), bytes };
}

/** A snapshot from path → content (tests, tools). */
export function snapshotOf(
  files: Record<string, string | Uint8Array> | Map<string, string | Uint8Array>,
): Map<string, FileRef> {
  const entries = files instanceof Map ? [...files] : Object.entries(files);
  return new Map(entries.map(([p, c]) => [p, fileRef(c)]));
}

/** A valid document of a managed file, as cached between runs. */
export interface CachedObject {
  document: number;
  object: KubeObject;
  crd: CrdKind;
  warnings: Finding[];
  /** The user comments of the document's source text, carried into its normalized form. */
  comments?: Comments;
}

/** Parse+validate results of managed and unmanaged files by blob id, reused across runs of one fabric. */
export interface PlanCache {
  managed: Map<string, { objects: CachedObject[]; findings: Finding[] }>;
  /**
   * Each unmanaged file's parse: the findings of the file and of documents that do not parse, and the
   * documents that do (validated again every run: the rest of the fabric they are checked against changes).
   */
  unmanaged: Map<string, { findings: Finding[]; docs: { value: unknown; index: number }[] }>;
  /**
   * The normalized form of a cached managed object (`renderManaged` of it, from the provenance it was
   * rendered with, and the blob id of the text): a managed file that is already canonical is not rendered
   * and hashed again every run. Kept on the {@link CachedObject} itself (a slot of this cache), so it goes
   * with its cache entry.
   */
  rendered: ObjectSlot<CachedObject, RenderedObject>;
  /** Step 4's results on managed objects and what each read of the fabric (`plan_across_cache.ts`). */
  across: AcrossCache;
}

/** What {@link PlanCache.rendered} holds for one cached object. */
export interface RenderedObject {
  source: string;
  document: number;
  object: KubeObject;
  hash: string;
  text: string;
  /** The git blob id of `text`. */
  id: string;
}

/**
 * A value attached to objects, as a WeakMap keyed by them would hold it, but kept on each object under a
 * symbol of the slot's own: a WeakMap of 10,000 objects a run has just created costs every young-generation
 * collection of the run its ephemeron processing (planning a 10,000-object drop ~15% faster).
 */
export interface ObjectSlot<K extends object, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
}

/** A new, empty {@link ObjectSlot}. */
export function objectSlot<K extends object, V>(name: string): ObjectSlot<K, V> {
  const slot = Symbol(name);
  return {
    get: (key) => (key as Record<symbol, V | undefined>)[slot],
    set: (key, value) => void ((key as Record<symbol, V>)[slot] = value),
  };
}

/** An empty cache. Drop it whenever the fabric's validator (CRDs, rule packs) changes. */
export function newPlanCache(): PlanCache {
  return {
    managed: new Map(),
    unmanaged: new Map(),
    rendered: objectSlot("rendered"),
    across: newAcrossCache(),
  };
}
