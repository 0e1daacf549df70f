/**
 * Loads CustomResourceDefinitions the way kubeconform does: every YAML document in the given files that is
 * a CRD (`apiextensions.k8s.io/v1`, or the older `v1beta1` shape) is indexed by group and kind; anything
 * else in those files is ignored. Pure: the caller reads the files (from a git tree or the local disk).
 */
import { parseAllDocuments } from "yaml";
import { isPlainObject } from "./object.ts";

/** One served or unserved version of a kind, with its OpenAPI v3 schema when the CRD declares one. */
export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: Record<string, unknown>;
}

/** What the validator and the ingestion planner need to know about a custom resource kind. */
export interface CrdKind {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  scope: "Namespaced" | "Cluster";
  versions: CrdVersion[];
  /** File the CRD came from (for messages). */
  source: string;
}

/** Every kind found, plus problems with the CRD files themselves. */
export interface CrdIndex {
  /** Keyed by `group/Kind`. */
  kinds: Map<string, CrdKind>;
  problems: { source: string; message: string }[];
}

/** A file to load: its path (for messages) and text. */
export interface CrdFile {
  path: string;
  text: string;
}

/** The index key of a kind. */
export function kindKey(group: string, kind: string): string {
  return `${group}/${kind}`;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function parseCrd(doc: Record<string, unknown>, source: string): CrdKind | string {
  const spec = doc.spec;
  if (!isPlainObject(spec)) return "CRD has no spec";
  const names = isPlainObject(spec.names) ? spec.names : {};
  const group = str(spec.group);
  const kind = str(names.kind);
  const plural = str(names.plural);
  if (!group || !kind || !plural) return "CRD lacks spec.group, spec.names.kind or spec.names.plural";
  const scope = spec.scope === "Cluster" ? "Cluster" : "Namespaced";
  const versions: CrdVersion[] = [];
  if (Array.isArray(spec.versions)) {
    for (const v of spec.versions) {
      if (!isPlainObject(v) || !str(v.name)) continue;
      const schema = isPlainObject(v.schema) && isPlainObject(v.schema.openAPIV3Schema)
        ? v.schema.openAPIV3Schema
        : isPlainObject(spec.validation) && isPlainObject(spec.validation.openAPIV3Schema) // v1beta1 shared schema
        ? spec.validation.openAPIV3Schema
        : undefined;
      versions.push({
        name: v.name as string,
        served: v.served !== false,
        storage: v.storage === true,
        schema,
      });
    }
  } else if (str(spec.version)) { // apiextensions v1beta1 single version
    const schema = isPlainObject(spec.validation) && isPlainObject(spec.validation.openAPIV3Schema)
      ? spec.validation.openAPIV3Schema
      : undefined;
    versions.push({ name: spec.version as string, served: true, storage: true, schema });
  }
  if (versions.length === 0) return `CRD ${plural}.${group} declares no versions`;
  return {
    group,
    kind,
    plural,
    singular: str(names.singular) ?? kind.toLowerCase(),
    scope,
    versions,
    source,
  };
}

/** Indexes every CRD in `files`. A kind defined twice keeps the first definition and reports the second. */
export function loadCrds(files: readonly CrdFile[]): CrdIndex {
  const kinds = new Map<string, CrdKind>();
  const problems: CrdIndex["problems"] = [];
  for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    let docs;
    try {
      docs = parseAllDocuments(file.text, { maxAliasCount: 100 } as never);
    } catch (err) {
      problems.push({ source: file.path, message: `not YAML: ${(err as Error).message}` });
      continue;
    }
    if (!Array.isArray(docs)) docs = [docs];
    for (const d of docs) {
      if (d.errors.length) {
        problems.push({ source: file.path, message: `YAML error: ${d.errors[0].message.split("\n")[0]}` });
        continue;
      }
      let doc: unknown;
      try {
        doc = d.toJS({ maxAliasCount: 100 });
      } catch (err) {
        problems.push({ source: file.path, message: (err as Error).message });
        continue;
      }
      if (!isPlainObject(doc) || doc.kind !== "CustomResourceDefinition") continue;
      if (typeof doc.apiVersion !== "string" || !doc.apiVersion.startsWith("apiextensions.k8s.io/")) continue;
      const crd = parseCrd(doc, file.path);
      if (typeof crd === "string") {
        problems.push({ source: file.path, message: crd });
        continue;
      }
      const key = kindKey(crd.group, crd.kind);
      const prior = kinds.get(key);
      if (prior) {
        problems.push({
          source: file.path,
          message: `${key} is already defined by ${prior.source}; ignored`,
        });
        continue;
      }
      kinds.set(key, crd);
    }
  }
  return { kinds, problems };
}
