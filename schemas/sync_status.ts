/**
 * `lz.sync.status.v1`: per sync layer, its health as the `sync-status` processor sees it (compacted by
 * layer). Freshness is recomputed on a punctuation, so the record is re-emitted while time passes.
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";
import { Layer } from "./sync_events.ts";

const Time = Type.String({ format: "date-time" });
const NullableTime = Type.Union([Time, Type.Null()]);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

/** Latency figures in seconds over the window: the last one, the p95 and the max; null when none. */
export const LatencyStats = Type.Object({
  last: NullableNumber,
  p95: NullableNumber,
  max: NullableNumber,
  count: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false });
export type LatencyStats = Static<typeof LatencyStats>;

export const SyncStatus = Type.Object({
  layer: Layer,
  /**
   * `ok`; `degraded` (success rate below the minimum, latency or freshness over the limit, or the last sync
   * was incomplete: `unreadable` > 0); `failing` (the
   * consecutive-failure limit reached); `idle` (enabled, nothing reported yet); `disabled`.
   */
  status: Type.Union([
    Type.Literal("ok"),
    Type.Literal("degraded"),
    Type.Literal("failing"),
    Type.Literal("idle"),
    Type.Literal("disabled"),
  ]),
  enabled: Type.Boolean(),
  /** Finish time of the last successful sync. */
  last_sync: NullableTime,
  last_attempt: NullableTime,
  last_error: Type.Union([Type.String(), Type.Null()]),
  /** Items synced by the last successful sync, and in total since the status began. */
  items_synced: Type.Integer({ minimum: 0 }),
  items_total: Type.Integer({ minimum: 0 }),
  /** Failed attempts in the window, and failures in a row right now. */
  errors: Type.Integer({ minimum: 0 }),
  consecutive_failures: Type.Integer({ minimum: 0 }),
  next_sync: NullableTime,
  /** Seconds since `last_sync` at `computed_at`; null before the first success. */
  freshness_seconds: NullableNumber,
  latency_seconds: Type.Object({
    /** Source change (commit time, event time) → materialized. */
    source_to_materialized: LatencyStats,
    /** Receipt (webhook delivery, Pub/Sub message) → materialized. */
    receipt_to_materialized: LatencyStats,
  }, { additionalProperties: false }),
  /** Successful / all attempts in the window; null when there were none. */
  success_rate: NullableNumber,
  attempts: Type.Integer({ minimum: 0 }),
  /** Source records the last successful sync could not read (bad export lines, oversized assets). */
  unreadable: Type.Optional(Type.Integer({ minimum: 0 })),
  /** The window, e.g. `1h`. */
  window: Type.String(),
  computed_at: Time,
}, { additionalProperties: false });
export type SyncStatus = Static<typeof SyncStatus>;

export const SYNC_STATUS_TOPIC = defineTopic({
  name: "lz.sync.status.v1",
  schema: SyncStatus,
  compacted: true,
  partitions: 1,
  key: "layer",
  description: "Health of each sync layer: last sync, freshness, latency, success rate, next sync.",
});
