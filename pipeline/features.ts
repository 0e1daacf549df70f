/**
 * The sync layers of this build, in start order. Each entry can list its topologies without deps (for
 * `describe`, `replay` and `digest`) and build itself from the app's deps (for `start`).
 */
import type { FeatureEntry } from "./feature.ts";
import type { Topology } from "./processor/types.ts";
import { gitSyncFeature, gitSyncTopologies } from "../connectors/git/mod.ts";
import { infraFeature } from "../connectors/infra_gateway/mod.ts";
import { buildFabricServices } from "../connectors/fgd/mod.ts";
import { analyticsFeature } from "../connectors/analytics/mod.ts";
import { portalRepoFeature, portalRepoTopology } from "../connectors/portal_repo/mod.ts";
import { auditFeature } from "../connectors/audit/mod.ts";

export const FEATURES: FeatureEntry[] = [
  {
    name: "git-sync",
    topologies: () => gitSyncTopologies(),
    build: (deps) => gitSyncFeature(deps),
  },
  infraFeature,
  {
    name: "fabrics",
    topologies: () => [],
    build: (deps) => {
      const fgd = buildFabricServices(deps);
      return { name: "fabrics", topologies: [], services: fgd.services, plugins: [fgd.plugin] };
    },
  },
  analyticsFeature,
  auditFeature,
  {
    name: "portal-repo",
    topologies: () => [portalRepoTopology() as Topology],
    build: (deps) => portalRepoFeature(deps),
  },
];
