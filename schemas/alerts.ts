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
