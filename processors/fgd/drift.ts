/**
 * Drift between the desired state (git `managed/`) and the actual state (the cluster, read-only).
 *
 * The cluster adds what git never holds: status, server metadata, labels and annotations written by
 * controllers, and spec fields its admission webhooks default (Hedgehog fills `ipv4Namespace`, gateways,
 * DHCP ranges). So drift is judged on what git says: every field present in the desired object must have
 * the same value in the actual object (maps key by key, lists element by element and in length); fields only the cluster
 * has are not drift. Provenance annotations are ignored.
 */
import { childPath, indexPath } from "./finding.ts";
import { stripProvenance } from "./normalize.ts";
import { isPlainObject, type KubeObject } from "./object.ts";

/** Drift of one object. */
export type DriftState = "in-sync" | "differs" | "missing" | "extra";

/** The drift of one object and the desired fields whose actual value differs. */
export interface Drift {
  state: DriftState;
  fields: string[];
}

function diff(desired: unknown, actual: unknown, path: string, out: string[]): void {
  if (isPlainObject(desired)) {
    if (!isPlainObject(actual)) {
      out.push(path);
      return;
    }
    for (const [k, v] of Object.entries(desired)) diff(v, actual[k], childPath(path, k), out);
    return;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(actual) || actual.length !== desired.length) {
      out.push(path);
      return;
    }
    desired.forEach((v, i) => diff(v, actual[i], indexPath(path, i), out));
    return;
  }
  if (desired !== actual) out.push(path);
}

/** Compares one object's desired and actual versions (either may be absent). */
export function compareStates(desired: KubeObject | undefined, actual: KubeObject | undefined): Drift {
  if (!desired && !actual) return { state: "in-sync", fields: [] };
  if (!actual) return { state: "missing", fields: [] };
  if (!desired) return { state: "extra", fields: [] };
  const d = stripProvenance(desired);
  const fields: string[] = [];
  for (const [k, v] of Object.entries(d)) {
    if (k === "apiVersion" || k === "status") continue;
    if (k === "metadata") {
      const meta = d.metadata;
      const am: Record<string, unknown> = isPlainObject(actual.metadata) ? actual.metadata : {};
      for (const f of ["labels", "annotations"] as const) {
        if (meta[f]) diff(meta[f], am[f] ?? {}, `metadata.${f}`, fields);
      }
      continue;
    }
    diff(v, actual[k], k, fields);
  }
  return { state: fields.length ? "differs" : "in-sync", fields };
}
