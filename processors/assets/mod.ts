/**
 * Asset state (sync layers 3 and 4 meet here): the `lzsync-assets` topology diffs Cloud Asset snapshots and
 * merges real-time feed messages and Landing Zone events into the compacted `lz.assets.v1`, and
 * {@link materializeInfrastructureState} builds the documents' infrastructure-state shape from the
 * gateway's views.
 */
import type { Topology } from "../../pipeline/processor/types.ts";
import { ASSET_PROJECTS_TOPIC, ASSET_SNAPSHOTS_TOPIC, ASSETS_TOPIC } from "../../schemas/assets.ts";
import { INFRA_EVENTS_TOPIC } from "../../schemas/infra_events.ts";
import { assetEntryCodec } from "./codec.ts";
import {
  type AssetsProcessorOptions,
  createAssetsProcessor,
  STORE_ASSETS,
  STORE_PROJECTS,
  STORE_SNAPSHOTS,
} from "./processor.ts";

export { STORE_ASSETS, STORE_PROJECTS, STORE_SNAPSHOTS } from "./processor.ts";
export type { AssetsProcessorOptions } from "./processor.ts";
export { materializeInfrastructureState } from "./state.ts";
export type { InfrastructureState } from "./state.ts";

/** Application id (consumer group, changelog prefix). Persisted contract. */
export const ASSETS_APP = "lzsync-assets";

/** The asset-state topology. */
export function assetsTopology(opts: AssetsProcessorOptions & { app?: string } = {}): Topology {
  return {
    app: opts.app ?? ASSETS_APP,
    inputs: [ASSET_SNAPSHOTS_TOPIC.name, INFRA_EVENTS_TOPIC.name, ASSET_PROJECTS_TOPIC.name],
    stores: [STORE_ASSETS, STORE_PROJECTS, STORE_SNAPSHOTS],
    codecs: { [STORE_ASSETS]: assetEntryCodec },
    outputs: [ASSETS_TOPIC.name, ASSET_PROJECTS_TOPIC.name],
    create: () => createAssetsProcessor(opts),
    description: "diffs Cloud Asset snapshots and merges feed events into lz.assets.v1",
  };
}
