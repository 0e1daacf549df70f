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

/** `group/version` split; the core group is "". */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf("/");
  return i < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
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
