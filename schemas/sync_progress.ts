/**
 * `lz.sync.progress.v1`: progress of one sync (manual trigger, webhook, schedule), keyed by `sync_id`, so a
 * client that called `POST /api/v1/sync/trigger` follows it over the WebSocket with `?topic=…&key=<sync_id>`
 * (a snapshot of the latest phase first, then each phase live). Compacted: the latest record per sync is its
 * state, which any gateway answers at the trigger's `status_url`.
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

export const SyncPhase = Type.Union([
  Type.Literal("queued"),
  Type.Literal("fetching"),
  Type.Literal("diffing"),
  Type.Literal("emitting"),
  Type.Literal("completed"),
  Type.Literal("skipped"),
  Type.Literal("failed"),
]);
export type SyncPhase = Static<typeof SyncPhase>;

export const SyncProgress = Type.Object({
  sync_id: Type.String({ minLength: 1 }),
  layer: Type.String(),
  phase: SyncPhase,
  /** True for `completed`, `skipped` and `failed`. */
  done: Type.Boolean(),
  repo: Type.Optional(Type.String()),
  commit: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  changed: Type.Optional(Type.Integer({ minimum: 0 })),
  removed: Type.Optional(Type.Integer({ minimum: 0 })),
  message: Type.String({ maxLength: 2000 }),
  at: Type.String({ format: "date-time" }),
}, { additionalProperties: false });
export type SyncProgress = Static<typeof SyncProgress>;

export const SYNC_PROGRESS_TOPIC = defineTopic({
  name: "lz.sync.progress.v1",
  schema: SyncProgress,
  compacted: true,
  partitions: 1,
  key: "sync_id",
  description: "Progress of individual syncs (queued → fetching → diffing → emitting → completed/failed).",
});
