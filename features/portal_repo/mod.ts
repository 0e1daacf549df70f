/**
 * The Portal repository sink (sync layer 2 as the source documents define it): the Landing Zone's docs and
 * config written into the Portal's own repository, per `portal_repo` in `lzsync.yaml`. A topology
 * (`lzsync-portal-repo`, see `topology.ts`) run by the processor host; off unless `portal_repo` is
 * configured and enabled.
 */
import type { AppDeps, Service } from "../../pipeline/service.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import type { Feature, FeatureParts } from "../../pipeline/feature.ts";
import { createPortalRepo, type PortalRepoOptions, portalRepoTopology } from "./topology.ts";
import { portalRepoPlugin } from "./plugin.ts";

export { portalRepoPlugin, portalRepoStatus } from "./plugin.ts";
export { compileMapping, type PortalMapping } from "./mapping.ts";
export { landingZoneId, type PortalWrite } from "./report.ts";
export {
  createPortalRepo,
  createPortalRepoHost,
  PORTAL_REPO_APP,
  type PortalRepoOptions,
  portalRepoTopology,
} from "./topology.ts";

/**
 * The sink's topology, the resource that closes its clone after the hosts stopped, and the gateway plugin
 * for `pipeline/features.ts` (no topology unless `portal_repo` is enabled).
 */
export function buildPortalRepo(
  deps: AppDeps,
  o: PortalRepoOptions = {},
): FeatureParts & { resources: Service[] } {
  const cfg = deps.runtime.config.portal_repo;
  const plugins = [portalRepoPlugin(cfg)];
  if (!cfg?.enabled) return { name: "portal-repo", topologies: [], services: [], resources: [], plugins };
  const { topology, writer } = createPortalRepo(deps, cfg, o);
  const clone: Service = {
    name: "portal-repo-clone",
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(writer.close()),
  };
  return {
    name: "portal-repo",
    topologies: [topology as Topology],
    services: [],
    resources: [clone],
    plugins,
  };
}

/** The Portal repository sink as a pipeline feature; it owns no topic (it writes the shared ones). */
export const portalRepoFeature: Feature = {
  name: "portal-repo",
  topics: [],
  topologies: () => [portalRepoTopology() as Topology],
  build: (deps) => buildPortalRepo(deps),
};
