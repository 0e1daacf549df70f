/**
 * Per-layer bookkeeping of the sync-status processor: bounded windows of outcomes and latencies, and the
 * {@link SyncStatus} computed from them at a point in time. Pure functions over JSON-serializable state (the
 * state lives in a changelog-backed store).
 */
import type { Layer, SyncEvent } from "../../schemas/sync_events.ts";
import type { LatencyStats, SyncStatus } from "../../schemas/sync_status.ts";

/** Limits that keep one layer's state small whatever the event rate. */
export const MAX_OUTCOMES = 2000;
export const MAX_LATENCIES = 1000;
export const MAX_SEEN_IDS = 500;

/** What the store keeps per layer. */
export interface LayerState {
  layer: Layer;
  /** When this processor first watched the layer (DataFreshness for a layer that never synced). */
  watch_since: number;
  last_sync: number | null;
  last_attempt: number | null;
  last_error: string | null;
  items_synced: number;
  items_total: number;
  consecutive_failures: number;
  next_sync: number | null;
  /** [finished ms, ok 1/0] in the window. */
  outcomes: [number, number][];
  /** [finished ms, seconds] in the window. */
  source_latency: [number, number][];
  receipt_latency: [number, number][];
  /** Latency of the last successful sync (max of both kinds), for SyncLatency. */
  last_latency: number | null;
  /** Recently applied event ids (a redelivered event counts once). */
  seen: string[];
  /** Unreadable source records of the last successful sync (absent: 0): > 0 makes the layer degraded. */
  unreadable?: number;
}

/** Per-layer settings from the config. */
export interface LayerSettings {
  enabled: boolean;
  /** Poll interval in ms for polled layers (git, api), else null. */
  intervalMs: number | null;
  /** Polled layers must sync regularly: DataFreshness applies. */
  polled: boolean;
}

/** A fresh state. */
export function newLayerState(layer: Layer, now: number): LayerState {
  return {
    layer,
    watch_since: now,
    last_sync: null,
    last_attempt: null,
    last_error: null,
    items_synced: 0,
    items_total: 0,
    consecutive_failures: 0,
    next_sync: null,
    outcomes: [],
    source_latency: [],
    receipt_latency: [],
    last_latency: null,
    seen: [],
  };
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);

/** Drops window entries older than `now - windowMs`. */
export function prune(s: LayerState, now: number, windowMs: number): void {
  const from = now - windowMs;
  const keep = <T extends [number, number]>(a: T[]) => {
    let i = 0;
    while (i < a.length && a[i][0] < from) i++;
    return i ? a.slice(i) : a;
  };
  s.outcomes = keep(s.outcomes);
  s.source_latency = keep(s.source_latency);
  s.receipt_latency = keep(s.receipt_latency);
}

/** Applies one report; returns false for an id already applied. */
export function applyEvent(s: LayerState, e: SyncEvent, intervalMs: number | null): boolean {
  if (s.seen.includes(e.id)) return false;
  s.seen.push(e.id);
  if (s.seen.length > MAX_SEEN_IDS) s.seen.splice(0, s.seen.length - MAX_SEEN_IDS);
  const finished = ms(e.finished_at);
  s.last_attempt = Math.max(s.last_attempt ?? 0, finished);
  s.outcomes.push([finished, e.ok ? 1 : 0]);
  if (s.outcomes.length > MAX_OUTCOMES) s.outcomes.splice(0, s.outcomes.length - MAX_OUTCOMES);
  if (e.next_sync) s.next_sync = ms(e.next_sync);
  else if (intervalMs) s.next_sync = finished + intervalMs;
  if (!e.ok) {
    s.consecutive_failures++;
    s.last_error = e.error ?? "failed (no reason given)";
    return true;
  }
  s.consecutive_failures = 0;
  s.last_error = null;
  s.last_sync = Math.max(s.last_sync ?? 0, finished);
  s.items_synced = e.items;
  s.items_total += e.items;
  if (e.unreadable) s.unreadable = e.unreadable;
  else delete s.unreadable;
  let latest: number | null = null;
  const source = ms(e.commit_time ?? e.event_time);
  if (!Number.isNaN(source)) {
    const v = Math.max(0, (finished - source) / 1000);
    s.source_latency.push([finished, v]);
    latest = v;
  }
  const receipt = ms(e.received_at);
  if (!Number.isNaN(receipt)) {
    const v = Math.max(0, (finished - receipt) / 1000);
    s.receipt_latency.push([finished, v]);
    latest = Math.max(latest ?? 0, v);
  }
  for (const a of [s.source_latency, s.receipt_latency]) {
    if (a.length > MAX_LATENCIES) a.splice(0, a.length - MAX_LATENCIES);
  }
  s.last_latency = latest;
  return true;
}

function stats(a: [number, number][]): LatencyStats {
  if (a.length === 0) return { last: null, p95: null, max: null, count: 0 };
  const sorted = a.map((x) => x[1]).sort((x, y) => x - y);
  const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    last: round(a[a.length - 1][1]),
    p95: round(p95),
    max: round(sorted[sorted.length - 1]),
    count: a.length,
  };
}

/** Success rate over the window, or null when there were no attempts. */
export function successRate(s: LayerState): number | null {
  if (s.outcomes.length === 0) return null;
  return s.outcomes.reduce((n, o) => n + o[1], 0) / s.outcomes.length;
}

/** Seconds since the last successful sync, or null before the first. */
export function freshness(s: LayerState, now: number): number | null {
  return s.last_sync === null ? null : Math.max(0, Math.round((now - s.last_sync) / 1000));
}

const isoOrNull = (n: number | null) => (n === null ? null : new Date(n).toISOString());

/** The status record of a layer at `now`; `status` is decided by the caller (it depends on open alerts). */
export function statusOf(
  s: LayerState,
  settings: LayerSettings,
  status: SyncStatus["status"],
  now: number,
  window: string,
): SyncStatus {
  const rate = successRate(s);
  return {
    layer: s.layer,
    status,
    enabled: settings.enabled,
    last_sync: isoOrNull(s.last_sync),
    last_attempt: isoOrNull(s.last_attempt),
    last_error: s.last_error,
    items_synced: s.items_synced,
    items_total: s.items_total,
    errors: s.outcomes.filter((o) => o[1] === 0).length,
    consecutive_failures: s.consecutive_failures,
    next_sync: isoOrNull(s.next_sync),
    freshness_seconds: freshness(s, now),
    latency_seconds: {
      source_to_materialized: stats(s.source_latency),
      receipt_to_materialized: stats(s.receipt_latency),
    },
    success_rate: rate === null ? null : Math.round(rate * 10000) / 10000,
    attempts: s.outcomes.length,
    ...(s.unreadable ? { unreadable: s.unreadable } : {}),
    window,
    computed_at: new Date(now).toISOString(),
  };
}
