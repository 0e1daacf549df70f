/**
 * Fabric GitOps Directory — the connector side (git, Kubernetes, gateway). Pure logic lives in
 * `processors/fgd/`.
 *
 * For the lead (`pipeline/main.ts`):
 *
 * ```ts
 * const fgd = buildFabricServices(deps);          // deps: AppDeps
 * services.push(...fgd.services);                 // start before the gateway
 * plugins.push(fgd.plugin);                       // the fabrics API and status section
 * ```
 *
 * `buildFabricServices` registers the fabrics of `lzsync.yaml`; with none configured and the sample Landing
 * Zone in use (no `landing_zone.repo`), it registers the sample fabric `dc1` at `fabrics/dc1` of that repo
 * (`defaultFabrics`/`sampleFabric`). The service runs the topology `lzsync-fgd` (`topology.ts`) on a
 * processor host of its own; `fgdTopology()` without a run is its declaration (`describe`, `replay`,
 * `digest`). The plugin's write routes produce commands and wait for the topology's answer in the same
 * process, so the plugin must be served by a gateway in the process that runs the service; its read routes
 * work on any gateway (they read the compacted `lz.fgd.*` topics).
 */
import type { AppDeps, Service } from "../../pipeline/service.ts";
import { FabricManager, type FabricManagerOptions } from "./manager.ts";
import { fabricsPlugin } from "./plugin.ts";

export { defaultFabrics, sampleFabric } from "../../pipeline/config_fabrics.ts";
export { FabricManager, type FabricManagerOptions } from "./manager.ts";
export { fabricsPlugin, FGD_PROGRESS } from "./plugin.ts";
export { FGD_APP, fgdTopology } from "./topology.ts";

/** The FGD service and its gateway plugin, built from the app's deps. */
export function buildFabricServices(
  deps: AppDeps,
  options: FabricManagerOptions = {},
): { services: Service[]; plugin: ReturnType<typeof fabricsPlugin>; manager: FabricManager } {
  const manager = new FabricManager(deps, options);
  return { services: [manager], plugin: fabricsPlugin(manager), manager };
}
