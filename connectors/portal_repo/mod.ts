/**
 * The Portal repository sink (sync layer 2 as the source documents define it): the Landing Zone's docs and
 * config written into the Portal's own repository, per `portal_repo` in `lzsync.yaml`. Off unless
 * `portal_repo` is configured.
 */
import type { AppDeps } from "../../pipeline/service.ts";
import type { Feature } from "../../pipeline/feature.ts";
import { createPortalRepoService, type PortalRepoServiceOptions } from "./service.ts";
import { portalRepoPlugin } from "./plugin.ts";

export { portalRepoPlugin, portalRepoStatus } from "./plugin.ts";
export { compileMapping, type PortalMapping } from "./mapping.ts";
export {
  createPortalRepoService,
  landingZoneId,
  type PortalRepoService,
  type PortalWrite,
} from "./service.ts";

/** The sink's services and plugins for `pipeline/features.ts` (empty unless `portal_repo` is enabled). */
export function portalRepoFeature(
  deps: AppDeps,
  o: PortalRepoServiceOptions = {},
): Feature {
  const cfg = deps.runtime.config.portal_repo;
  const services = cfg?.enabled ? [createPortalRepoService(deps, cfg, o)] : [];
  return { name: "portal-repo", topologies: [], services, plugins: [portalRepoPlugin(cfg)] };
}
