/**
 * `lz.alerts.v1`: sync alerts raised and resolved by the `sync-status` processor, compacted by alert id
 * (`<type>:<layer>`): the latest record says whether it is open. Open and resolve are both records, so live
 * clients see each transition as an event and the view holds every alert's current state.
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";
import { Layer } from "./sync_events.ts";

export const AlertType = Type.Union([
  /** Success rate over the window below `alerts.success_rate_min` (0.95). */
  Type.Literal("SyncFailure"),
  /** Source → materialized latency of the last sync above `alerts.latency_max` (300 s). */
  Type.Literal("SyncLatency"),
  /** No successful sync for longer than `alerts.freshness_max` (6 h; polled layers only). */
  Type.Literal("DataFreshness"),
  /** `alerts.consecutive_failures` (3) failed attempts in a row. */
  Type.Literal("ConsecutiveFailures"),
  /** The last sync could not read some source records (damaged export lines): its snapshot deleted nothing. */
  Type.Literal("IncompleteSync"),
  /** The last day's billing cost above `analytics.cost_spike.ratio` × the trailing average (layer `analytics`). */
  Type.Literal("CostSpike"),
  /**
   * `alerts.consecutive_failures` ingestion runs of one fabric failed in a row, e.g. its repository cannot be
   * read or written (layer `fgd`, id `FabricFailure:fgd:<fabric>`; raised by the FGD service).
   */
  Type.Literal("FabricFailure"),
]);
export type AlertType = Static<typeof AlertType>;

export const Alert = Type.Object({
  id: Type.String({ description: "<type>:<layer>, or <type>:fgd:<fabric>" }),
  type: AlertType,
  layer: Type.Union([Layer, Type.Literal("analytics"), Type.Literal("fgd")], {
    description: "a sync layer, analytics (costs) or fgd (fabric GitOps directories)",
  }),
  state: Type.Union([Type.Literal("open"), Type.Literal("resolved")]),
  severity: Type.Union([Type.Literal("warning"), Type.Literal("critical")]),
  message: Type.String(),
  /** The measured value and the threshold it crossed (rate 0..1, seconds, or a count). */
  value: Type.Number(),
  threshold: Type.Number(),
  opened_at: Type.String({ format: "date-time" }),
  resolved_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  updated_at: Type.String({ format: "date-time" }),
}, { additionalProperties: false });
export type Alert = Static<typeof Alert>;

export const ALERTS_TOPIC = defineTopic({
  name: "lz.alerts.v1",
  schema: Alert,
  compacted: true,
  partitions: 1,
  key: "<type>:<layer> (FabricFailure: <type>:fgd:<fabric>)",
  description:
    "Sync alerts (SyncFailure, SyncLatency, DataFreshness, ConsecutiveFailures, IncompleteSync, CostSpike, FabricFailure), open or resolved.",
});

/**
 * What the alert notifier has done with an alert's latest transition it handled: posted it, or counted it
 * stale (older than `alerts.notify_max_age`). A transition is ordered by (`opened_at`, open before resolved).
 */
export const AlertNotified = Type.Object({
  id: Type.String({ description: "the alert id (the key)" }),
  state: Type.Union([Type.Literal("open"), Type.Literal("resolved")]),
  opened_at: Type.String({ format: "date-time", description: "the episode the transition belongs to" }),
  outcome: Type.Union([Type.Literal("posted"), Type.Literal("stale")]),
  at: Type.String({ format: "date-time", description: "when the notifier handled it (its clock)" }),
}, { additionalProperties: false });
export type AlertNotified = Static<typeof AlertNotified>;

/**
 * `lz.alerts.notified.v1`: the alert notifier's delivery ledger, compacted by alert id. It is an output of
 * `lzsync-alert-notifier`, not a changelog, so `replay` keeps it; the notifier reads it at start and never
 * posts a transition at or before the one recorded here again.
 */
export const ALERTS_NOTIFIED_TOPIC = defineTopic({
  name: "lz.alerts.notified.v1",
  schema: AlertNotified,
  compacted: true,
  partitions: 1,
  key: "alert id (as on lz.alerts.v1)",
  description: "The last alert transition the alert notifier posted (or found too old to post), per alert.",
});
