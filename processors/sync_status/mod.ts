/**
 * `sync-status`: the health of every sync layer (webhook, git, api, pubsub, bigquery) and its alerts.
 *
 * Input `lz.sync.events.v1` (how layers report: see `schemas/sync_events.ts`). Per layer it keeps a window
 * of outcomes and latencies (store `layers`) and forwards `lz.sync.status.v1` (compacted by layer) when the
 * status changes, and at least every `refreshMs` so freshness keeps moving. Alerts (store `alerts`) are
 * evaluated on every report and on a punctuation of the injected clock (`tickMs`), and forwarded to
 * `lz.alerts.v1` on each open/resolve transition:
 * - SyncFailure: success rate over the window < `alerts.success_rate_min`;
 * - SyncLatency: the last sync's latency (source or receipt → materialized) > `alerts.latency_max`;
 * - DataFreshness (polled layers git, api, bigquery): no success for longer than
 *   max(`alerts.freshness_max`, interval + 5 min) — a 6 h poll must not alert just by running at 6 h;
 * - ConsecutiveFailures: `alerts.consecutive_failures` failed attempts in a row;
 * - IncompleteSync: the last successful sync reported `unreadable` source records (the layer is degraded).
 */
import type { InputRecord, Processor, ProcessorContext, Topology } from "../../pipeline/processor/types.ts";
import { parseDuration } from "../../pipeline/config.ts";
import type { Config } from "../../pipeline/config.ts";
import { type Layer, LAYERS, SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";
import { SYNC_STATUS_TOPIC, type SyncStatus } from "../../schemas/sync_status.ts";
import { type Alert, ALERTS_TOPIC, type AlertType } from "../../schemas/alerts.ts";
import {
  applyEvent,
  type LayerSettings,
  type LayerState,
  newLayerState,
  prune,
  statusOf,
  successRate,
} from "./state.ts";

/** Application id. Persisted contract. */
export const SYNC_STATUS_APP = "lzsync-sync-status";
/** Stores. Persisted contracts. */
export const LAYERS_STORE = "layers";
export const ALERTS_STORE = "alerts";

/** Thresholds and per-layer settings. */
export interface SyncStatusOptions {
  layers: Record<Layer, LayerSettings>;
  successRateMin: number;
  latencyMaxSeconds: number;
  freshnessMaxSeconds: number;
  consecutiveFailures: number;
  windowMs: number;
  window: string;
  /** Punctuation period (default 15 s). */
  tickMs: number;
  /** Re-emit an unchanged status at least this often (default 60 s). */
  refreshMs: number;
}

/** Options from the config. */
export function syncStatusOptions(
  config: Readonly<Config>,
  o: Partial<SyncStatusOptions> = {},
): SyncStatusOptions {
  const l = config.layers;
  return {
    layers: {
      webhook: { enabled: l.webhook.enabled, intervalMs: null, polled: false },
      git: { enabled: l.git.enabled, intervalMs: parseDuration(l.git.interval), polled: true },
      api: { enabled: l.api.enabled, intervalMs: parseDuration(l.api.interval), polled: true },
      pubsub: { enabled: l.pubsub.enabled, intervalMs: null, polled: false },
      bigquery: { enabled: l.bigquery.enabled, intervalMs: null, polled: true },
    },
    successRateMin: config.alerts.success_rate_min,
    latencyMaxSeconds: parseDuration(config.alerts.latency_max) / 1000,
    freshnessMaxSeconds: parseDuration(config.alerts.freshness_max) / 1000,
    consecutiveFailures: config.alerts.consecutive_failures,
    windowMs: parseDuration(config.alerts.window),
    window: config.alerts.window,
    tickMs: 15_000,
    refreshMs: 60_000,
    ...o,
  };
}

interface Condition {
  type: AlertType;
  value: number;
  threshold: number;
  severity: Alert["severity"];
  message: string;
}

/** The alert conditions that hold for a layer right now. */
export function conditions(
  s: LayerState,
  set: LayerSettings,
  o: SyncStatusOptions,
  now: number,
): Condition[] {
  if (!set.enabled) return [];
  const out: Condition[] = [];
  const rate = successRate(s);
  if (rate !== null && rate < o.successRateMin) {
    out.push({
      type: "SyncFailure",
      value: rate,
      threshold: o.successRateMin,
      severity: rate < 0.5 ? "critical" : "warning",
      message: `${s.layer} sync success rate ${(rate * 100).toFixed(1)}% over ${o.window} is below ${
        o.successRateMin * 100
      }%${s.last_error ? `; last error: ${s.last_error}` : ""}`,
    });
  }
  if (s.last_latency !== null && s.last_latency > o.latencyMaxSeconds) {
    out.push({
      type: "SyncLatency",
      value: s.last_latency,
      threshold: o.latencyMaxSeconds,
      severity: "warning",
      message: `${s.layer} took ${
        Math.round(s.last_latency)
      } s from change to Portal (limit ${o.latencyMaxSeconds} s)`,
    });
  }
  if (set.polled) {
    const limit = Math.max(o.freshnessMaxSeconds, (set.intervalMs ?? 0) / 1000 + 300);
    const age = (now - (s.last_sync ?? s.watch_since)) / 1000;
    if (age > limit) {
      out.push({
        type: "DataFreshness",
        value: Math.round(age),
        threshold: limit,
        severity: "warning",
        message: s.last_sync === null
          ? `${s.layer} has not synced successfully in the ${Math.round(age / 60)} min lzsync has watched it`
          : `${s.layer} data is ${Math.round(age / 60)} min old (limit ${Math.round(limit / 60)} min)`,
      });
    }
  }
  if (s.unreadable) {
    out.push({
      type: "IncompleteSync",
      value: s.unreadable,
      threshold: 0,
      severity: "warning",
      message:
        `${s.layer}: the last sync could not read ${s.unreadable} source record(s) (sent to lz.dlq.v1); ` +
        "it deleted nothing; fix or re-export the source",
    });
  }
  if (s.consecutive_failures >= o.consecutiveFailures) {
    out.push({
      type: "ConsecutiveFailures",
      value: s.consecutive_failures,
      threshold: o.consecutiveFailures,
      severity: "critical",
      message: `${s.layer} failed ${s.consecutive_failures} times in a row${
        s.last_error ? `; last error: ${s.last_error}` : ""
      }`,
    });
  }
  return out;
}

const ALERT_TYPES: AlertType[] = [
  "SyncFailure",
  "SyncLatency",
  "DataFreshness",
  "ConsecutiveFailures",
  "IncompleteSync",
];

type Stored = LayerState & { emitted_key?: string; emitted_at?: number };

/** Creates one task's processor. */
export function createSyncStatus(o: SyncStatusOptions): Processor<SyncEvent> {
  const evaluate = (ctx: ProcessorContext, layer: Layer, now: number) => {
    const layers = ctx.store<Stored>(LAYERS_STORE);
    const alerts = ctx.store<Alert>(ALERTS_STORE);
    const set = o.layers[layer];
    const s: Stored = layers.get(layer) ?? newLayerState(layer, now);
    prune(s, now, o.windowMs);
    const nowIso = new Date(now).toISOString();
    const holding = new Map(conditions(s, set, o, now).map((c) => [c.type, c]));
    let open = 0;
    for (const type of ALERT_TYPES) {
      const id = `${type}:${layer}`;
      const prev = alerts.get(id);
      const c = holding.get(type);
      if (c) open++;
      if (c && prev?.state !== "open") {
        const a: Alert = {
          id,
          type,
          layer,
          state: "open",
          severity: c.severity,
          message: c.message,
          value: c.value,
          threshold: c.threshold,
          opened_at: nowIso,
          resolved_at: null,
          updated_at: nowIso,
        };
        alerts.put(id, a);
        ctx.forward(ALERTS_TOPIC.name, id, a);
      } else if (!c && prev?.state === "open") {
        const a: Alert = { ...prev, state: "resolved", resolved_at: nowIso, updated_at: nowIso };
        alerts.put(id, a);
        ctx.forward(ALERTS_TOPIC.name, id, a);
      }
    }
    const status: SyncStatus["status"] = !set.enabled
      ? "disabled"
      : s.consecutive_failures >= o.consecutiveFailures
      ? "failing"
      : open > 0
      ? "degraded"
      : s.last_attempt === null
      ? "idle"
      : "ok";
    const record = statusOf(s, set, status, now, o.window);
    const { computed_at: _c, freshness_seconds: _f, ...stable } = record;
    const key = JSON.stringify(stable);
    if (key !== s.emitted_key || now - (s.emitted_at ?? 0) >= o.refreshMs) {
      s.emitted_key = key;
      s.emitted_at = now;
      ctx.forward(SYNC_STATUS_TOPIC.name, layer, record);
    }
    layers.put(layer, s);
  };

  return {
    init(ctx) {
      ctx.schedule(o.tickMs, (now) => {
        for (const layer of LAYERS) evaluate(ctx, layer, now);
      });
    },
    process(record: InputRecord<SyncEvent>, ctx: ProcessorContext) {
      const e = record.value;
      if (e === null) return;
      const layers = ctx.store<Stored>(LAYERS_STORE);
      const now = ctx.now();
      const s = layers.get(e.layer) ?? newLayerState(e.layer, now);
      if (!applyEvent(s, e, o.layers[e.layer].intervalMs)) return;
      layers.put(e.layer, s);
      evaluate(ctx, e.layer, now);
    },
  };
}

/** The sync-status topology. */
export function syncStatusTopology(o: SyncStatusOptions, app = SYNC_STATUS_APP): Topology<SyncEvent> {
  return {
    app,
    inputs: [SYNC_EVENTS_TOPIC.name],
    stores: [LAYERS_STORE, ALERTS_STORE],
    outputs: [SYNC_STATUS_TOPIC.name, ALERTS_TOPIC.name],
    create: () => createSyncStatus(o),
    description: "per-layer sync status (freshness, latency, success rate) and sync alerts",
  };
}
