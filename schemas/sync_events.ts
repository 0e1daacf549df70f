/**
 * `lz.sync.events.v1`: how every sync layer reports a finished sync attempt to the sync-status processor.
 *
 * How a layer reports (api, pubsub, bigquery do the same as git):
 * - produce one record per attempt, key = the layer name, value `{id, layer, ok, items, error?, started_at,
 *   finished_at, ...}`; `id` must be unique per attempt (a redelivered record with the same id counts once);
 * - `ok: false` with a secret-free `error` on failure (it counts against the success rate and the
 *   consecutive-failure alert);
 * - `commit_time` (git) or the source event time (`event_time`, e.g. Pub/Sub publish time) gives the
 *   "source change → materialized" latency; `received_at` (webhook receipt, Pub/Sub receipt) gives
 *   "receipt → materialized"; both measured to `finished_at`;
 * - `next_sync` when the layer knows when it runs next (polled layers);
 * - `trigger` and `triggered_by`: what started the attempt and who asked (analytics' `sync_runs`).
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

/** The five sync layers of the design, plus `portal`: the Portal repository sink (`portal_repo`). */
export const Layer = Type.Union([
  Type.Literal("webhook"),
  Type.Literal("git"),
  Type.Literal("api"),
  Type.Literal("pubsub"),
  Type.Literal("bigquery"),
  Type.Literal("portal"),
]);
export type Layer = Static<typeof Layer>;
export const LAYERS: readonly Layer[] = ["webhook", "git", "api", "pubsub", "bigquery", "portal"];

const Time = Type.String({ format: "date-time" });

export const SyncEvent = Type.Object({
  id: Type.String({ minLength: 1, description: "unique per attempt (e.g. the sync id + layer)" }),
  layer: Layer,
  ok: Type.Boolean(),
  items: Type.Integer({ minimum: 0, description: "records/files/assets synced by this attempt" }),
  error: Type.Optional(Type.String({ maxLength: 2000 })),
  started_at: Time,
  finished_at: Time,
  commit_time: Type.Optional(Type.Union([Time, Type.Null()])),
  event_time: Type.Optional(Type.Union([Time, Type.Null()])),
  received_at: Type.Optional(Type.Union([Time, Type.Null()])),
  next_sync: Type.Optional(Type.Union([Time, Type.Null()])),
  /**
   * Source records this attempt could not read (bad export lines, oversized assets), each sent to the DLQ.
   * An `ok` attempt with `unreadable` > 0 is incomplete: the layer is `degraded` and IncompleteSync opens.
   */
  unreadable: Type.Optional(Type.Integer({ minimum: 0 })),
  trigger: Type.Optional(Type.Union([
    Type.Literal("webhook"),
    Type.Literal("schedule"),
    Type.Literal("start"),
    Type.Literal("trigger"),
    Type.Literal("event"),
  ], {
    description:
      "what started the attempt: a webhook, the schedule, start-up, a manual trigger, an event stream",
  })),
  /** Who asked: the GitHub pusher of a webhook, the gateway token name of a manual trigger; null otherwise. */
  triggered_by: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** Free-form reference (commit sha, sync id, snapshot id) for humans. */
  ref: Type.Optional(Type.String()),
}, { additionalProperties: false });
export type SyncEvent = Static<typeof SyncEvent>;

export const SYNC_EVENTS_TOPIC = defineTopic({
  name: "lz.sync.events.v1",
  schema: SyncEvent,
  compacted: false,
  partitions: 1,
  key: "layer",
  description: "One record per finished sync attempt of any layer; input of the sync-status processor.",
});
