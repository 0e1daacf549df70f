/**
 * Normalization of managed objects: one canonical form per object so that re-ingesting identical input is
 * byte-identical (and makes no commit).
 *
 * - key order: `apiVersion`, `kind`, `metadata` (`name`, `namespace`, `labels`, `annotations`, then the
 *   rest sorted), `spec`, then any other top-level field; every mapping below is sorted by key;
 * - dropped: `status` and the volatile metadata the API server writes (`creationTimestamp`,
 *   `resourceVersion`, `uid`, `generation`, `managedFields`, `selfLink`, deletion fields) and kubectl's
 *   `last-applied-configuration` annotation; empty labels/annotations maps;
 * - a namespaced kind without a namespace gets `default`;
 * - provenance annotations (`lzsync.io/source-file`, `lzsync.io/source-document`, `lzsync.io/content-hash`)
 *   name where the object came from and a hash of its content without them.
 *
 * - user comments of the source document are kept beside their nodes (`comments.ts`).
 *
 * YAML output (`emit_yaml.ts`) is quoted wherever YAML 1.1 readers (kubectl, Flux: go-yaml) would read a
 * string differently from YAML 1.2 (`yes`, `on`, `0755`, `1_000`, `12:30`, dates).
 */
import { hash } from "node:crypto";
import { type Comments, emitYamlWithComments } from "./comments.ts";
import { emitYaml } from "./emit_yaml.ts";
import type { CrdKind } from "./crd.ts";
import { isPlainObject, type KubeObject } from "./object.ts";

export const ANNOTATION_SOURCE = "lzsync.io/source-file";
export const ANNOTATION_DOCUMENT = "lzsync.io/source-document";
export const ANNOTATION_HASH = "lzsync.io/content-hash";
const PROVENANCE = [ANNOTATION_SOURCE, ANNOTATION_DOCUMENT, ANNOTATION_HASH];

const VOLATILE_METADATA = new Set([
  "creationTimestamp",
  "resourceVersion",
  "uid",
  "generation",
  "managedFields",
  "selfLink",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
]);
const VOLATILE_ANNOTATIONS = new Set(["kubectl.kubernetes.io/last-applied-configuration"]);
const METADATA_HEAD = ["name", "namespace", "labels", "annotations"];

/** Recursively sorts mapping keys (arrays keep their order). */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
  return out;
}

/** Where an object came from. */
export interface Provenance {
  /** Fabric-relative path of the file the object was taken from, e.g. `raw/vpcs.yaml`. */
  source: string;
  /** Index of the document in that file. */
  document: number;
}

/** The canonical object without provenance annotations (the thing {@link contentHash} hashes). */
export function normalizeObject(obj: KubeObject, crd?: CrdKind): KubeObject {
  const meta = obj.metadata;
  const metadata: Record<string, unknown> = { name: meta.name };
  const namespace = meta.namespace ?? (crd && crd.scope === "Namespaced" ? "default" : undefined);
  if (namespace !== undefined) metadata.namespace = namespace;
  if (isPlainObject(meta.labels) && Object.keys(meta.labels).length) metadata.labels = sortKeys(meta.labels);
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    if (!VOLATILE_ANNOTATIONS.has(k) && !PROVENANCE.includes(k)) annotations[k] = v;
  }
  if (Object.keys(annotations).length) metadata.annotations = sortKeys(annotations);
  for (const k of Object.keys(meta).sort()) {
    if (!METADATA_HEAD.includes(k) && !VOLATILE_METADATA.has(k)) metadata[k] = sortKeys(meta[k]);
  }
  const out: Record<string, unknown> = { apiVersion: obj.apiVersion, kind: obj.kind, metadata };
  if (obj.spec !== undefined) out.spec = sortKeys(obj.spec);
  for (const k of Object.keys(obj).sort()) {
    if (!(k in out) && k !== "status") out[k] = sortKeys(obj[k]);
  }
  return out as KubeObject;
}

/** `sha256:<hex>` of the canonical JSON of a normalized object (provenance excluded). */
export function contentHash(normalized: KubeObject): string {
  return "sha256:" + hash("sha256", JSON.stringify(stripProvenance(normalized)), "hex");
}

/** A copy of `obj` without the provenance annotations (and without an emptied annotations map). */
export function stripProvenance(obj: KubeObject): KubeObject {
  const ann = obj.metadata.annotations;
  if (!ann || !PROVENANCE.some((k) => k in ann)) return obj;
  const rest: Record<string, string> = {};
  for (const [k, v] of Object.entries(ann)) if (!PROVENANCE.includes(k)) rest[k] = v;
  const metadata = { ...obj.metadata, annotations: rest };
  if (!Object.keys(rest).length) delete (metadata as Record<string, unknown>).annotations;
  return { ...obj, metadata };
}

/** Adds the provenance annotations (sorted in with the others) to a normalized object. */
export function withProvenance(
  normalized: KubeObject,
  p: Provenance,
  hash = contentHash(normalized),
): KubeObject {
  const annotations = sortKeys({
    ...(normalized.metadata.annotations ?? {}),
    [ANNOTATION_SOURCE]: p.source,
    [ANNOTATION_DOCUMENT]: String(p.document),
    [ANNOTATION_HASH]: hash,
  }) as Record<string, string>;
  return { ...normalized, metadata: orderMetadata({ ...normalized.metadata, annotations }) } as KubeObject;
}

function orderMetadata(meta: Record<string, unknown>): KubeObject["metadata"] {
  const out: Record<string, unknown> = {};
  for (const k of METADATA_HEAD) if (meta[k] !== undefined) out[k] = meta[k];
  for (const k of Object.keys(meta).sort()) if (!METADATA_HEAD.includes(k)) out[k] = meta[k];
  return out as KubeObject["metadata"];
}

/** The provenance recorded on a managed object, if any. */
export function provenanceOf(obj: KubeObject): (Provenance & { hash?: string }) | undefined {
  const a = obj.metadata.annotations;
  const source = a?.[ANNOTATION_SOURCE];
  if (!source) return undefined;
  return { source, document: Number(a[ANNOTATION_DOCUMENT] ?? 0), hash: a[ANNOTATION_HASH] };
}

/** Serializes an object as canonical YAML (see `emit_yaml.ts` for the quoting rules). */
export function toYaml(obj: unknown): string {
  return emitYaml(obj);
}

/**
 * Normalizes, hashes and annotates an object, returning the managed file's content and hash. `comments`
 * (from the object's source text, `comments.ts`) are written beside their nodes; they are not part of the
 * hash (a comment is not desired state).
 */
export function renderManaged(
  obj: KubeObject,
  crd: CrdKind | undefined,
  p: Provenance,
  comments?: Comments,
): {
  object: KubeObject;
  hash: string;
  text: string;
} {
  const normalized = normalizeObject(obj, crd);
  const hash = contentHash(normalized);
  const object = withProvenance(normalized, p, hash);
  return { object, hash, text: comments ? emitYamlWithComments(object, comments) : toYaml(object) };
}
