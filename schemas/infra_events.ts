/**
 * Real-time infrastructure events (sync layer 4), as the Pub/Sub subscriber (`connectors/pubsub/`) writes
 * them: Cloud Asset real-time feed messages (TemporalAsset) and the Landing Zone's own events. Keyed by the
 * asset name so all events of one asset stay in order.
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";
import { AssetRecord } from "./assets.ts";

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = () => Type.String({ format: "date-time" });

const Envelope = {
  message_id: Type.String({ minLength: 1, description: "Pub/Sub message id (dedupe key)" }),
  publish_time: DateTime(),
  subscription: Type.String(),
};

/** A Cloud Asset feed message (TemporalAsset). */
const AssetFeedEvent = Type.Object({
  type: Type.Literal("asset_feed"),
  ...Envelope,
  asset: AssetRecord,
  prior_asset: Type.Union([AssetRecord, Type.Null()]),
  prior_asset_state: Nullable(Type.String({ description: "PRESENT, INVALID, DOES_NOT_EXIST or DELETED" })),
  deleted: Type.Boolean(),
  window_start: Nullable(DateTime()),
}, { additionalProperties: false });

/** The Landing Zone's own resource_created / resource_deleted event. */
const LzResourceEvent = Type.Object({
  type: Type.Union([Type.Literal("resource_created"), Type.Literal("resource_deleted")]),
  ...Envelope,
  asset: AssetRecord,
  actor: Nullable(Type.String()),
}, { additionalProperties: false });

/** The Landing Zone's own policy_violated event (from an external policy engine). */
const LzPolicyViolated = Type.Object({
  type: Type.Literal("policy_violated"),
  ...Envelope,
  rule_id: Type.String({ minLength: 1 }),
  asset_name: Type.String({ minLength: 1 }),
  asset_type: Nullable(Type.String()),
  project: Nullable(Type.String()),
  severity: Type.Union([
    Type.Literal("critical"),
    Type.Literal("high"),
    Type.Literal("medium"),
    Type.Literal("low"),
  ]),
  message: Type.String(),
}, { additionalProperties: false });

/** Any event on `lz.infra.events.v1`. */
export const InfraEvent = Type.Union([AssetFeedEvent, LzResourceEvent, LzPolicyViolated]);
export type InfraEvent = Static<typeof InfraEvent>;
export type AssetFeedEvent = Static<typeof AssetFeedEvent>;
export type LzResourceEvent = Static<typeof LzResourceEvent>;
export type LzPolicyViolated = Static<typeof LzPolicyViolated>;

export const INFRA_EVENTS_TOPIC = defineTopic({
  name: "lz.infra.events.v1",
  schema: InfraEvent,
  compacted: false,
  partitions: 1,
  keyed: true,
  key: "asset name",
  description: "Cloud Asset feed messages and Landing Zone events received over Pub/Sub.",
});
