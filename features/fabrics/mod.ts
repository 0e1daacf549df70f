/**
 * Fabrics (Fabric GitOps Directories) as a pipeline feature: it owns the `lz.fgd.*` topics. Its service and
 * gateway plugin are still built by `connectors/fgd/` (the fabric service, being turned into a topology, issue
 * 13 item 1) over the pure logic of `processors/fgd/`; they move into this folder once that lands.
 */
import type { Feature } from "../../pipeline/feature.ts";
import { FGD_TOPICS } from "../../schemas/fgd.ts";
import { buildFabricServices } from "../../connectors/fgd/mod.ts";

/** The fabrics layer for `pipeline/features.ts`. */
export const fabricsFeature: Feature = {
  name: "fabrics",
  topics: FGD_TOPICS,
  topologies: () => [],
  build: (deps) => {
    const fgd = buildFabricServices(deps);
    return { name: "fabrics", topologies: [], services: fgd.services, plugins: [fgd.plugin] };
  },
};
