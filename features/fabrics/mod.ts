/**
 * Fabrics (Fabric GitOps Directories) as a pipeline feature: it owns the `lz.fgd.*` topics (the commands
 * topic `lz.fgd.commands.v1` included) and declares the topology `lzsync-fgd`. This folder holds the layer's
 * service (which runs that topology on a processor host of its own), its gateway plugin and the fabric
 * workers, over the pure planning and validation logic of `processors/fgd/` and the adapters of
 * `connectors/git/` (own clone, packs, local push) and `connectors/kubernetes/` (the cluster's actual state).
 */
import type { Feature } from "../../pipeline/feature.ts";
import { FGD_TOPICS } from "../../schemas/fgd.ts";
import { buildFabricServices, fgdTopology } from "./service.ts";

/** The fabrics layer for `pipeline/features.ts`. */
export const fabricsFeature: Feature = {
  name: "fabrics",
  topics: FGD_TOPICS,
  topologies: () => [fgdTopology()],
  build: (deps) => {
    const fgd = buildFabricServices(deps);
    return { name: "fabrics", topologies: [], services: fgd.services, plugins: [fgd.plugin] };
  },
};
