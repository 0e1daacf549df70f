/**
 * `sync-status`: the health of every sync layer (webhook, git, api, pubsub, bigquery, portal) and its alerts.
 *
 * Input `lz.sync.events.v1` (how layers report: see `schemas/sync_events.ts`). Per layer it keeps a window
 * of outcomes and latencies (store `layers`) and forwards `lz.sync.status.v1` (compacted by layer) when the
 * status changes, and at least every `refreshMs` so freshness keeps moving. Alerts (store `alerts`) are
 * evaluated on every report and on a punctuation of the injected clock (`tickMs`), and forwarded to
 * `lz.alerts.v1` on each open/resolve transition (stores hold only what the records imply: see
 * {@link createSyncStatus}):
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
      bigquery: { enabled: l.bigquery.enabled, intervalMs: parseDuration(l.bigquery.interval), polled: true },
      portal: { enabled: config.portal_repo?.enabled ?? false, intervalMs: null, polled: false },
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

/** A layer state as older versions stored it (with emission bookkeeping, now kept in memory). */
type Stored = LayerState & { emitted_key?: string; emitted_at?: number };

function clean(s: Stored): LayerState {
  const { emitted_key: _k, emitted_at: _a, ...rest } = s;
  return rest;
}

/**
 * When an alert opened. DataFreshness opens at the deadline the records fix (last success, or the first
 * record seen, plus the limit), whoever notices it first (a punctuation or the next record), so the time is
 * the same in a replay; the others open at the record that makes them hold.
 */
function openedAt(c: Condition, s: LayerState, at: number): number {
  if (c.type !== "DataFreshness") return at;
  return (s.last_sync ?? s.watch_since) + c.threshold * 1000;
}

/**
 * Creates one task's processor.
 *
 * The stores (`layers`, `alerts`) are a function of the input records alone: a record is evaluated at its
 * timestamp, never at the wall clock, so `replay --to earliest` rebuilds byte-identical state. Punctuations
 * evaluate the same conditions at the wall clock (DataFreshness needs time to pass without records) and
 * forward status and alert changes, but remember them only in memory: the next record re-evaluates at its own
 * time and settles the store (and forwards a correction when what it finds differs from what was forwarded).
 */
export function createSyncStatus(o: SyncStatusOptions): Processor<SyncEvent> {
  /** Last status forwarded per layer (what, when), to re-emit only on change or every `refreshMs`. */
  const emitted = new Map<Layer, { key: string; at: number }>();
  /** Alert states forwarded by punctuations and not (yet) in the store. */
  const shown = new Map<string, Alert>();
  let startedAt: number | null = null;

  const forwardStatus = (ctx: ProcessorContext, s: LayerState, status: SyncStatus["status"], now: number) => {
    const record = statusOf(s, o.layers[s.layer], status, now, o.window);
    const { computed_at: _c, freshness_seconds: _f, ...stable } = record;
    const key = JSON.stringify(stable);
    const last = emitted.get(s.layer);
    if (!last || key !== last.key || now - last.at >= o.refreshMs) {
      emitted.set(s.layer, { key, at: now });
      ctx.forward(SYNC_STATUS_TOPIC.name, s.layer, record);
    }
  };

  /**
   * Evaluates `layer` at `now`. `persist`: `now` is a record's timestamp and the result goes to the stores;
   * otherwise (a punctuation) the stores are left as they are.
   */
  const evaluate = (ctx: ProcessorContext, layer: Layer, now: number, persist: boolean) => {
    const layers = ctx.store<Stored>(LAYERS_STORE);
    const alerts = ctx.store<Alert>(ALERTS_STORE);
    const set = o.layers[layer];
    const stored = layers.get(layer);
    const s: LayerState = stored
      ? (persist ? clean(stored) : structuredClone(clean(stored)))
      : newLayerState(layer, startedAt ?? now);
    prune(s, now, o.windowMs);
    const nowIso = new Date(now).toISOString();
    const holding = new Map(conditions(s, set, o, now).map((c) => [c.type, c]));
    let open = 0;
    for (const type of ALERT_TYPES) {
      const id = `${type}:${layer}`;
      const base = alerts.get(id);
      const visible = shown.get(id) ?? base;
      const c = holding.get(type);
      if (c) open++;
      const from = persist ? base : visible;
      let next: Alert | undefined = from;
      if (c && from?.state !== "open") {
        const opened = new Date(openedAt(c, s, now)).toISOString();
        next = {
          id,
          type,
          layer,
          state: "open",
          severity: c.severity,
          message: c.message,
          value: c.value,
          threshold: c.threshold,
          opened_at: opened,
          resolved_at: null,
          updated_at: nowIso,
        };
      } else if (!c && from?.state === "open") {
        next = { ...from, state: "resolved", resolved_at: nowIso, updated_at: nowIso };
      }
      if (persist) {
        shown.delete(id);
        if (next && next !== base) {
          alerts.put(id, next);
          ctx.forward(ALERTS_TOPIC.name, id, next);
        } else if (visible !== base && visible?.state === "open" && next?.state !== "open") {
          // a punctuation opened it; the records say it does not hold
          ctx.forward(ALERTS_TOPIC.name, id, {
            ...visible,
            state: "resolved",
            resolved_at: nowIso,
            updated_at: nowIso,
          });
        } else if (visible !== base && next?.state === "open") {
          ctx.forward(ALERTS_TOPIC.name, id, next);
        }
      } else if (next && next !== visible) {
        shown.set(id, next);
        ctx.forward(ALERTS_TOPIC.name, id, next);
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
    forwardStatus(ctx, s, status, now);
    if (persist) layers.put(layer, s);
  };

  return {
    init(ctx) {
      ctx.schedule(o.tickMs, (now) => {
        startedAt ??= now;
        for (const layer of LAYERS) evaluate(ctx, layer, now, false);
      });
    },
    process(record: InputRecord<SyncEvent>, ctx: ProcessorContext) {
      const e = record.value;
      if (e === null) return;
      const layers = ctx.store<Stored>(LAYERS_STORE);
      const at = record.timestamp;
      // the first record starts the watch of every layer (DataFreshness of a layer that never reports)
      if (layers.size === 0) { for (const l of LAYERS) layers.put(l, newLayerState(l, at)); }
      const s = clean(layers.get(e.layer) ?? newLayerState(e.layer, at));
      if (s.seen.includes(e.id)) return;
      // the state just before this record, at its time: a stale layer opens DataFreshness here, as a
      // punctuation would have, so a replay holds the same alert history
      layers.put(e.layer, s);
      evaluate(ctx, e.layer, at, true);
      const fresh = clean(layers.get(e.layer)!);
      applyEvent(fresh, e, o.layers[e.layer].intervalMs);
      layers.put(e.layer, fresh);
      evaluate(ctx, e.layer, at, true);
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
