/**
 * The `Feature` contract: one sync layer, declared once in its folder `features/<layer>/mod.ts`. A feature
 * declares the topics it owns (their schemas are in `schemas/`; topic creation at start is derived from these
 * declarations), lists its topologies without deps (for `describe`, `replay` and `digest`), and builds what it
 * adds to a running pipeline (topologies, services, gateway plugins) from the app's deps. `pipeline/features.ts`
 * lists this build's features; `pipeline/app.ts` starts them. Types only, so a feature's module can name them
 * without importing the list that imports it.
 */
import type { AppDeps, Service } from "./service.ts";
import type { Topology } from "./processor/types.ts";
import type { AnalyticsReader } from "./analytics/sink.ts";
import type { TopicDef } from "../schemas/topic.ts";
import type { GatewayPlugin } from "../connectors/gateway/plugin.ts";

/** One sync layer: the topics it owns, its topologies (static) and how it is built for a run. */
export interface Feature {
  name: string;
  /**
   * The topics this feature owns (its topologies or services are their main writers). Every declared topic
   * has exactly one owner: a feature, or the runtime itself (`RUNTIME_TOPICS` in `pipeline/topics.ts`).
   */
  topics: readonly TopicDef[];
  topologies(): Topology[];
  build(deps: AppDeps): FeatureParts | Promise<FeatureParts>;
}

/** What one feature adds to a running pipeline (built from the app's deps, not started). */
export interface FeatureParts {
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
