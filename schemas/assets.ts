/**
 * Cloud infrastructure assets (sync layer 3): the normalized asset record shared by every asset topic, the
 * poll snapshots written by `connectors/cloud_asset/`, and the compacted current state per asset written by
 * `processors/assets/`.
 *
 * Asset state is partitioned by asset name (keyed topics: `broker.partitions`, murmur2 of the name on both
 * brokers), so the assets and policy processors run one task per partition. A snapshot is written per
 * partition: each partition gets the `snapshot_started`, the chunks of its own assets and a
 * `snapshot_completed` with its own count, so each task diffs its own share and deletes only what its
 * share no longer lists. 100,000 assets diff in well under the 3 s budget on one task; see `bench/assets.ts`.
 */
import { type Static, type TRecord, type TString, type TUnknown, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = () => Type.String({ format: "date-time" });
/**
 * A JSON object of any members (`resource.data`, an org policy), typed as `Record<string, unknown>`. It is
 * declared as an open object rather than `Type.Record(Type.String(), Type.Unknown())`, which accepts the
 * same JSON values but whose compiled check lists every member (an array per member) and tests each name
 * against `^(.*)$` — on every asset record decoded or forwarded.
 */
const AnyObject = () =>
  Type.Object({}, { additionalProperties: true }) as unknown as TRecord<TString, TUnknown>;

/** An IAM policy as Cloud Asset reports it (`iamPolicy`), reduced to what rules read. */
export const IamPolicy = Type.Object({
  bindings: Type.Array(Type.Object({
    role: Type.String(),
    members: Type.Array(Type.String()),
  }, { additionalProperties: true })),
  etag: Type.Optional(Type.String()),
}, { additionalProperties: true });
export type IamPolicy = Static<typeof IamPolicy>;

/**
 * One cloud resource, normalized from ListAssets (REST/gRPC), an export file or a feed message. `data` is
 * `resource.data` as plain JSON (protobuf Struct already converted). `project` is the project id when it
 * can be told from the asset (name or data), `project_number` the number from `ancestors`.
 */
export const AssetRecord = Type.Object({
  name: Type.String({
    minLength: 1,
    description: "full resource name, e.g. //compute.googleapis.com/projects/p/...",
  }),
  asset_type: Type.String({ minLength: 1, description: "e.g. compute.googleapis.com/Firewall" }),
  project: Nullable(Type.String()),
  project_number: Nullable(Type.String()),
  location: Nullable(Type.String({ description: "resource.location: zone, region, multi-region or global" })),
  update_time: Nullable(DateTime()),
  ancestors: Type.Array(Type.String(), { description: "projects/N, folders/F, organizations/O" }),
  resource_parent: Nullable(Type.String()),
  data: Type.Union([AnyObject(), Type.Null()], {
    description: "resource.data as JSON; null when only the IAM policy is known",
  }),
  iam_policy: Type.Optional(Type.Union([IamPolicy, Type.Null()])),
  org_policy: Type.Optional(Type.Array(AnyObject(), {
    description: "orgPolicy (content type ORG_POLICY): the organization policies set on this resource",
  })),
}, { additionalProperties: false });
export type AssetRecord = Static<typeof AssetRecord>;

/** Where an asset observation came from. */
export const AssetSource = Type.Union([
  Type.Literal("api"),
  Type.Literal("export"),
  Type.Literal("feed"),
  Type.Literal("lz_event"),
]);
export type AssetSource = Static<typeof AssetSource>;

const SnapshotStarted = Type.Object({
  type: Type.Literal("snapshot_started"),
  snapshot_id: Type.String({ minLength: 1 }),
  previous_snapshot_id: Nullable(Type.String()),
  source: Type.Union([Type.Literal("api"), Type.Literal("export")]),
  parent: Type.String({
    description: "Cloud Asset scope: projects/P, folders/F, organizations/O (or the export's)",
  }),
  asset_types: Type.Array(Type.String(), {
    description: "types listed; assets of other types are not deleted",
  }),
  content_types: Type.Array(Type.String()),
  started_at: DateTime(),
  partitions: Type.Optional(Type.Integer({
    minimum: 1,
    description: "partitions the snapshot is written over (absent: 1); each gets its own start and marker",
  })),
}, { additionalProperties: false });

const SnapshotAssets = Type.Object({
  type: Type.Literal("snapshot_assets"),
  snapshot_id: Type.String({ minLength: 1 }),
  seq: Type.Integer({ minimum: 0, description: "chunk number within the snapshot" }),
  assets: Type.Array(AssetRecord),
  read_time: Type.Optional(Nullable(DateTime())),
}, { additionalProperties: false });

const SnapshotCompleted = Type.Object({
  type: Type.Literal("snapshot_completed"),
  snapshot_id: Type.String({ minLength: 1 }),
  asset_count: Type.Integer({
    minimum: 0,
    description: "assets written to this partition (the task compares it with what it read)",
  }),
  chunk_count: Type.Integer({ minimum: 0, description: "chunks written to this partition" }),
  pages: Type.Integer({ minimum: 0, description: "API pages fetched (0 for an export file)" }),
  read_time: Nullable(DateTime()),
  completed_at: DateTime(),
  duration_ms: Type.Number({ minimum: 0 }),
  unreadable: Type.Optional(Type.Integer({
    minimum: 0,
    description: "source records that could not be read (bad lines, oversized assets): when > 0 the " +
      "snapshot is incomplete and deletes nothing",
  })),
  partitions: Type.Optional(Type.Integer({ minimum: 1, description: "as in snapshot_started" })),
}, { additionalProperties: false });

const SnapshotFailed = Type.Object({
  type: Type.Literal("snapshot_failed"),
  snapshot_id: Type.String({ minLength: 1 }),
  error: Type.String(),
  asset_count: Type.Integer({ minimum: 0 }),
  failed_at: DateTime(),
}, { additionalProperties: false });

/** One record of a poll snapshot: a start, chunks of assets, then a completion marker (or a failure). */
export const SnapshotRecord = Type.Union([
  SnapshotStarted,
  SnapshotAssets,
  SnapshotCompleted,
  SnapshotFailed,
]);
export type SnapshotRecord = Static<typeof SnapshotRecord>;
export type SnapshotStarted = Static<typeof SnapshotStarted>;
export type SnapshotAssets = Static<typeof SnapshotAssets>;
export type SnapshotCompleted = Static<typeof SnapshotCompleted>;

export const ASSET_SNAPSHOTS_TOPIC = defineTopic({
  name: "lz.assets.snapshot.v1",
  schema: SnapshotRecord,
  compacted: false,
  partitions: 1,
  keyed: true,
  key: "Cloud Asset parent (scope) of the snapshot; each record is written to an explicit partition: the " +
    "chunks hold only assets whose name hashes (murmur2) to it, start and marker go to every partition",
  description:
    "Cloud Asset polls and export-file loads: snapshot_started, snapshot_assets chunks, snapshot_completed.",
});

/** The change types of an asset; also the WebSocket frame `type`. */
export const AssetChangeType = Type.Union([
  Type.Literal("resource_created"),
  Type.Literal("resource_updated"),
  Type.Literal("resource_deleted"),
]);
export type AssetChangeType = Static<typeof AssetChangeType>;

/** The current state of one asset (the latest value per key), and the change that produced it. */
export const AssetState = Type.Object({
  type: AssetChangeType,
  name: Type.String(),
  asset: AssetRecord,
  source: AssetSource,
  snapshot_id: Nullable(Type.String()),
  message_id: Nullable(Type.String()),
  changed_at: DateTime(),
  observed_at: DateTime(),
}, { additionalProperties: false });
export type AssetState = Static<typeof AssetState>;

export const ASSETS_TOPIC = defineTopic({
  name: "lz.assets.v1",
  schema: AssetState,
  compacted: true,
  partitions: 1,
  keyed: true,
  key: "asset name",
  description:
    "Current state per asset (created/updated/deleted). A deleted asset keeps its resource_deleted record until the tombstone retention ends, then a null tombstone.",
});

/** A project number and its project id, learned from a Project asset. */
export const ProjectId = Type.Object({
  project_number: Type.String({ minLength: 1 }),
  project: Type.String({ minLength: 1 }),
}, { additionalProperties: false });
export type ProjectId = Static<typeof ProjectId>;

export const ASSET_PROJECTS_TOPIC = defineTopic({
  name: "lz.assets.projects.v1",
  schema: ProjectId,
  compacted: true,
  partitions: 1,
  keyed: true,
  key: "project number (broadcast: a copy on every partition)",
  description:
    "Project number → id, written by the assets task that saw the Project asset and read by every " +
    "task, so resources known by number alone (buckets) get the id whichever partition their name hashes to.",
});
