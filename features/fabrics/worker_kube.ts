/** Reading the actual state of a fabric from its (read-only) Kubernetes source. */
import { describeError } from "../../pipeline/errors.ts";
import { contentHash, normalizeObject } from "../../processors/fgd/normalize.ts";
import { managedPath } from "../../processors/fgd/layout.ts";
import type { ActualEntry } from "./records.ts";
import { slotKey } from "./records.ts";
import type { KubeSource } from "../../connectors/kubernetes/kube_source.ts";
import type { FabricState } from "./worker_state.ts";

/** Lists every CRD kind of the fabric in the cluster and replaces the worker's actual state. */
export async function pollActual(w: FabricState, kube: KubeSource): Promise<void> {
  w.validator ??= await w.fg.validatorAt(await w.fg.repo.fetch());
  const observed = w.nowIso();
  const next = new Map<string, ActualEntry>();
  try {
    for (const crd of w.validator.crds.kinds.values()) {
      const version = crd.versions.find((v) => v.storage && v.served) ?? crd.versions.find((v) => v.served);
      if (!version) continue;
      const items = await kube.list({
        group: crd.group,
        version: version.name,
        kind: crd.kind,
        plural: crd.plural,
      });
      for (const item of items) {
        const name = item.metadata?.name;
        if (typeof name !== "string") continue;
        const namespace = crd.scope === "Namespaced" ? (item.metadata.namespace ?? "default") : null;
        const object = normalizeObject(item, crd);
        next.set(slotKey(crd.plural, namespace, name), {
          meta: {
            apiVersion: item.apiVersion,
            kind: crd.kind,
            plural: crd.plural,
            name,
            namespace,
            path: managedPath(crd.plural, name, namespace ?? undefined),
          },
          object,
          hash: contentHash(object),
          observed_at: observed,
        });
      }
    }
    w.actual = next;
    w.kubeState = { api_url: w.reg.kubernetes!.api_url, last_poll: observed, error: null };
  } catch (err) {
    w.o.metrics.failures.inc({ fabric: w.id, reason: "kubernetes" });
    w.kubeState = {
      api_url: w.reg.kubernetes!.api_url,
      last_poll: w.kubeState?.last_poll ?? null,
      error: describeError(err),
    };
  }
}
