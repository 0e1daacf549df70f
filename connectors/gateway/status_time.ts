/**
 * Sync status as of the answer: a `lz.sync.status.v1` record carries `freshness_seconds` as of its
 * `computed_at` (the sync-status processor recomputes it about once a minute), so an answer that copied it
 * would lag by up to a minute. Answers recompute it from `last_sync` at the moment they are made.
 */
import type { SyncStatus } from "../../schemas/sync_status.ts";

/** `st` with `freshness_seconds` counted from `last_sync` to `now` (epoch ms). */
export function statusAt(st: SyncStatus, now: number): SyncStatus {
  const last = st.last_sync === null ? NaN : Date.parse(st.last_sync);
  return {
    ...st,
    freshness_seconds: Number.isNaN(last) ? null : Math.max(0, Math.round((now - last) / 1000)),
  };
}
