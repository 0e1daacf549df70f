/**
 * Fabrics (Fabric GitOps Directories) as a pipeline feature: it owns the `lz.fgd.*` topics (the commands
 * topic `lz.fgd.commands.v1` included) and declares the topology `lzsync-fgd`. Its service (which runs that
 * topology on a processor host of its own) and gateway plugin are still built by `connectors/fgd/` over the
 * pure logic of `processors/fgd/`; they can move into this folder now that the service is a topology.
 */
import type { Feature } from "../../pipeline/feature.ts";
import { FGD_TOPICS } from "../../schemas/fgd.ts";
import { buildFabricServices, fgdTopology } from "../../connectors/fgd/mod.ts";

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
