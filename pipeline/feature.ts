/**
 * The `Feature` contract: what one sync layer declares (its topologies, for `describe`, `replay` and `digest`)
 * and what it adds to a running pipeline (topologies, services, gateway plugins). `pipeline/features.ts`
 * lists this build's layers; `pipeline/app.ts` starts them. Types only, so a layer's module can name them
 * without importing the list that imports it.
 */
import type { AppDeps, Service } from "./service.ts";
import type { Topology } from "./processor/types.ts";
import type { AnalyticsReader } from "./analytics/sink.ts";
import type { GatewayPlugin } from "../connectors/gateway/plugin.ts";

/** What one sync layer adds to a running pipeline. */
export interface Feature {
  name: string;
  topologies: Topology[];
  services: Service[];
  plugins: GatewayPlugin[];
  /**
   * Started before the processor hosts and stopped after them: what their sinks write to (the analytics
   * database), so a host's last checkpoint on stop still finds it open.
   */
  resources?: Service[];
  /** The analytics tables of this process (`lzsync sql` through the admin API reads them). */
  analytics?: AnalyticsReader;
}

/** A sync layer: its topologies (static) and how it is built for a run. */
export interface FeatureEntry {
  name: string;
  topologies(): Topology[];
  build(deps: AppDeps): Feature | Promise<Feature>;
}
