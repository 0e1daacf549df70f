/**
 * The Kubernetes object shape as the FGD sees it, plus identity helpers. Identity is
 * (group, kind, namespace, name): the API version is not part of it, as in the API server.
 */

/** A decoded Kubernetes object (after structural validation these fields are known to be well-formed). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

const SPLIT = new Map<string, Readonly<{ group: string; version: string }>>();

/**
 * `group/version` split; the core group is "". The result is shared by every call with the same string
 * (frozen): a fabric has a handful of API versions and the rules split one per object and lookup.
 */
export function splitApiVersion(apiVersion: string): Readonly<{ group: string; version: string }> {
  let r = SPLIT.get(apiVersion);
  if (r) return r;
  const i = apiVersion.lastIndexOf("/");
  r = Object.freeze(
    i < 0
      ? { group: "", version: apiVersion }
      : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) },
  );
  if (SPLIT.size < 256) SPLIT.set(apiVersion, r); // bounded: malformed input must not grow it without end
  return r;
}

/** The identity key of an object: `group/Kind/namespace/name` (namespace "" for cluster-scoped objects). */
export function objectKey(obj: Pick<KubeObject, "apiVersion" | "kind" | "metadata">): string {
  const { group } = splitApiVersion(obj.apiVersion);
  return `${group}/${obj.kind}/${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
}

/** `Kind/name` for messages. */
export function describeObject(obj: Pick<KubeObject, "kind" | "metadata">): string {
  return `${obj.kind}/${obj.metadata.name}`;
}

/** True for a plain (non-array, non-null) object. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
