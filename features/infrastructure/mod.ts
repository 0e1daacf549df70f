/**
 * The infrastructure layers' entry for `pipeline/main.ts`: everything sync layers 3 (Cloud Asset) and 4
 * (Pub/Sub) and the policy layer add to a running lzsync.
 *
 * ```ts
 * const infra = buildInfraServices(deps);
 * services.push(...infra.services);                       // topics, Cloud Asset poll/export, Pub/Sub
 * for (const t of infra.topologies) services.push(createProcessorHost(deps, t));
 * plugins.push(infra.plugin);                              // REST, live events, status page sections
 * ```
 *
 * With nothing configured, the API layer loads the sample export `deploy/sample-lz/assets/export.ndjson`
 * (set `layers.api.parent` to poll Cloud Asset Inventory, or `layers.api.export_file` for your own export);
 * Pub/Sub runs when `layers.pubsub.enabled` (the emulator is used when `PUBSUB_EMULATOR_HOST` is set).
 */
import { fileURLToPath } from "node:url";
import type { AppDeps, Service } from "../../pipeline/service.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import { parseDuration } from "../../pipeline/config.ts";
import type { TopicDef } from "../../schemas/topic.ts";
import { ASSET_PROJECTS_TOPIC, ASSET_SNAPSHOTS_TOPIC, ASSETS_TOPIC } from "../../schemas/assets.ts";
import { INFRA_EVENTS_TOPIC } from "../../schemas/infra_events.ts";
import { VIOLATIONS_TOPIC } from "../../schemas/violations.ts";
import {
  EVALUATIONS_TOPIC,
  GOVERNANCE_TOPIC,
  SCORE_PARTS_TOPIC,
  SCORES_TOPIC,
} from "../../schemas/compliance.ts";
import { SYNC_EVENTS_TOPIC } from "../../schemas/sync_events.ts";
import { GIT_FILES_TOPIC } from "../../schemas/git_files.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import { assetsTopology } from "../../processors/assets/mod.ts";
import { governanceTopology, policyTopology, scoresTopology } from "../../processors/policy/mod.ts";
import type { GatewayPlugin } from "../../connectors/gateway/plugin.ts";
import type { Feature, FeatureParts } from "../../pipeline/feature.ts";
import { type AssetSourceSpec, createCloudAssetService } from "../../connectors/cloud_asset/service.ts";
import { createPubsubSubscriber } from "../../connectors/pubsub/subscriber.ts";
import { infraGatewayPlugin } from "./plugin.ts";

export { infraGatewayPlugin } from "./plugin.ts";

/** The sample export loaded on a first run. */
export const SAMPLE_EXPORT = fileURLToPath(
  new URL("../../deploy/sample-lz/assets/export.ndjson", import.meta.url),
);

/** Every topic the infrastructure layers read or write. */
export const INFRA_TOPICS: TopicDef[] = [
  ASSET_SNAPSHOTS_TOPIC,
  ASSET_PROJECTS_TOPIC,
  INFRA_EVENTS_TOPIC,
  ASSETS_TOPIC,
  VIOLATIONS_TOPIC,
  EVALUATIONS_TOPIC,
  SCORES_TOPIC,
  SCORE_PARTS_TOPIC,
  GOVERNANCE_TOPIC,
  GIT_FILES_TOPIC,
  SYNC_EVENTS_TOPIC,
  DLQ_TOPIC,
];

/** What {@link buildInfraServices} returns. */
export interface InfraParts {
  /** Start in order: topics first, then the API source, then the Pub/Sub subscriber. */
  services: Service[];
  /** `lzsync-assets`, `lzsync-policy`, `lzsync-policy-governance`: run each in a processor host. */
  topologies: Topology[];
  plugin: GatewayPlugin;
}

/** A service that creates the infrastructure topics (idempotent), so hosts find their inputs. */
export function infraTopicsService(deps: AppDeps): Service {
  return {
    name: "infra-topics",
    async start() {
      await deps.broker.admin().createTopics(
        INFRA_TOPICS.map((t) => ({ name: t.name, partitions: t.partitions, compacted: t.compacted })),
      );
    },
    async stop() {},
  };
}

/** Where the API layer's snapshots come from, per config. */
export function apiSource(deps: AppDeps): AssetSourceSpec {
  const api = deps.runtime.config.layers.api;
  if (api.parent) return { kind: "api", parent: api.parent, apiEndpoint: api.api_endpoint };
  return { kind: "export", path: api.export_file ?? SAMPLE_EXPORT };
}

/** Builds the infrastructure layers from the app's deps and config. */
export function buildInfraServices(deps: AppDeps): InfraParts {
  const { layers } = deps.runtime.config;
  const services: Service[] = [infraTopicsService(deps)];
  if (layers.api.enabled) {
    services.push(createCloudAssetService(deps, {
      source: apiSource(deps),
      assetTypes: [...layers.api.asset_types],
      intervalMs: parseDuration(layers.api.interval),
      maxAssetBytes: layers.api.max_asset_bytes,
    }));
  }
  if (layers.pubsub.enabled) {
    const emulatorHost = deps.runtime.secret("PUBSUB_EMULATOR_HOST");
    services.push(createPubsubSubscriber(deps, {
      projectId: layers.pubsub.project,
      subscription: layers.pubsub.subscription,
      maxMessages: layers.pubsub.max_messages,
      ackMaxDelayMs: parseDuration(layers.pubsub.ack_max_delay),
      emulatorHost,
      // Against the emulator lzsync provisions what it reads; in Google Cloud the Landing Zone does.
      createIfMissing: emulatorHost ? { topic: layers.pubsub.topic } : undefined,
    }));
  }
  return { services, topologies: infraTopologies(), plugin: infraGatewayPlugin() };
}

/** `lzsync-assets`, `lzsync-policy`, `lzsync-policy-scores`, `lzsync-policy-governance` (static). */
function infraTopologies(): Topology[] {
  return [assetsTopology(), policyTopology(), scoresTopology(), governanceTopology()];
}

/** The infrastructure layer as a pipeline feature; `FEATURES` (`pipeline/features.ts`) lists it. */
export const infrastructureFeature: Feature = {
  name: "infrastructure",
  topics: [
    ASSET_SNAPSHOTS_TOPIC,
    ASSET_PROJECTS_TOPIC,
    INFRA_EVENTS_TOPIC,
    ASSETS_TOPIC,
    VIOLATIONS_TOPIC,
    EVALUATIONS_TOPIC,
    SCORES_TOPIC,
    SCORE_PARTS_TOPIC,
    GOVERNANCE_TOPIC,
  ],
  topologies: infraTopologies,
  build(deps: AppDeps): FeatureParts {
    const parts = buildInfraServices(deps);
    return {
      name: "infrastructure",
      topologies: parts.topologies,
      services: parts.services,
      plugins: [parts.plugin],
    };
  },
};
