/**
 * The in-memory log of the embedded broker: one {@link PartitionLog} per topic partition holding its records
 * in offset order. Offsets never change; compaction leaves gaps that readers skip. Appends wake waiting
 * fetchers at once (no polling). An optional {@link LogPersistence} (see `embedded/disk.ts`) writes every
 * appended batch and every compaction through to disk before the call returns.
 */
import type { ConsumedRecord } from "../types.ts";

/** A record as the log stores and hands it out (shared, never mutated after append). */
export type LogRecord = ConsumedRecord;

/** Where a partition's appends and compactions go besides memory (a data directory). */
export interface LogPersistence {
  /** Writes `records` (already offset-stamped) before the append is acknowledged. */
  append(records: LogRecord[]): void;
  /** Replaces the stored partition with exactly `kept` (a compaction). */
  rewrite(kept: LogRecord[]): void;
  close(): void;
}

/** Defaults of Kafka's compaction settings the embedded broker honours. */
export const DEFAULT_DELETE_RETENTION_MS = 86_400_000;
/** Kafka's default `retention.ms` (7 days) for topics with `cleanup.policy=delete`. */
export const DEFAULT_RETENTION_MS = 604_800_000;
/** Retention trims the head of a log once this many records (and at least half the log) expired. */
export const MIN_EXPIRED_RECORDS = 1_000;
/**
 * Compaction runs on append once this many records can be removed (superseded values and tombstones appended
 * since the last compaction), and at least as many as the keys that remain: a log of distinct keys is never
 * compacted for nothing, and a log never holds more than about twice its live records.
 */
export const MIN_DIRTY_RECORDS = 2_000;

/** One partition's records. */
export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  /** Records in ascending offset order; after compaction offsets have gaps. */
  records: LogRecord[] = [];
  /** First available offset (log start). Compaction never moves it. */
  low = 0;
  /** Offset the next appended record gets. */
  high = 0;
  /** Records present right after the last compaction. */
  cleanCount = 0;
  persistence: LogPersistence | null = null;
  /** A compacted topic's log: the offset of the latest record per key (null: not compacted, no index). */
  #latest: Map<string, number> | null = null;
  /** Records appended since the last compaction that a compaction may remove (superseded, tombstones). */
  #garbage = 0;
  #listeners = new Set<() => void>();
  #lastTrimCheck = -Infinity;

  constructor(topic: string, partition: number, compacted = false) {
    this.topic = topic;
    this.partition = partition;
    if (compacted) this.#latest = new Map();
  }

  #index(recs: LogRecord[]): void {
    const latest = this.#latest;
    if (latest === null) return;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i];
      if (r.key === null) continue;
      const size = latest.size;
      latest.set(r.key, r.offset);
      if (latest.size === size) this.#garbage++; // the key was there: its older record is superseded
      if (r.value === null) this.#garbage++;
    }
  }

  /** Appends records already stamped with the next offsets; persists, then wakes waiting fetchers. */
  append(recs: LogRecord[]): void {
    if (recs.length === 0) return;
    if (recs[0].offset !== this.high) {
      throw new RangeError(
        `append at offset ${recs[0].offset} to ${this.topic}:${this.partition} at ${this.high}`,
      );
    }
    this.persistence?.append(recs);
    for (let i = 0; i < recs.length; i++) this.records.push(recs[i]);
    this.#index(recs);
    this.high += recs.length;
    this.notify();
  }

  /** Loads already-stored records (startup from disk), no persistence and no wake-up. */
  load(records: LogRecord[], high: number, low: number): void {
    this.records = records;
    this.high = Math.max(high, records.length ? records[records.length - 1].offset + 1 : 0);
    this.low = Math.min(low, this.high);
    this.cleanCount = records.length;
    this.#latest?.clear();
    this.#index(records);
  }

  /** Index of the first record whose offset is >= `offset` (records.length when none). */
  indexOf(offset: number): number {
    const recs = this.records;
    const n = recs.length;
    if (n === 0 || offset <= recs[0].offset) return 0;
    if (offset > recs[n - 1].offset) return n;
    const guess = offset - recs[0].offset; // exact when there are no gaps
    if (guess < n && recs[guess].offset === offset) return guess;
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (recs[mid].offset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Up to `max` records starting at the first offset >= `offset`. */
  read(offset: number, max: number): LogRecord[] {
    const i = this.indexOf(offset);
    return this.records.slice(i, i + max);
  }

  /** First offset whose timestamp is >= `timestamp`, or the high offset when none is. */
  offsetForTimestamp(timestamp: number): number {
    for (const r of this.records) if (r.timestamp >= timestamp) return r.offset;
    return this.high;
  }

  /** True when enough removable records arrived since the last compaction to make one worthwhile. */
  needsCompaction(): boolean {
    const g = this.#garbage;
    return g >= MIN_DIRTY_RECORDS && g >= this.records.length - g;
  }

  /**
   * Keeps the latest record per key; drops tombstones older than `deleteRetentionMs` (by record timestamp)
   * and records without a key. Offsets are untouched. The kept values are copied into one buffer of their
   * own, so no append batch's buffer stays pinned by a few survivors. Returns how many records were removed.
   */
  compact(now: number, deleteRetentionMs: number): number {
    let latest = this.#latest;
    const recs = this.records;
    if (latest === null) {
      latest = new Map<string, number>();
      for (let i = 0; i < recs.length; i++) {
        const k = recs[i].key;
        if (k !== null) latest.set(k, recs[i].offset);
      }
    }
    const kept: LogRecord[] = [];
    let bytes = 0;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i];
      if (r.key === null || latest.get(r.key) !== r.offset) continue;
      if (r.value === null && now - r.timestamp > deleteRetentionMs) {
        if (this.#latest) latest.delete(r.key);
        continue;
      }
      kept.push(r);
      if (r.value !== null) bytes += r.value.byteLength;
    }
    const removed = recs.length - kept.length;
    this.#garbage = 0;
    if (removed === 0) {
      this.cleanCount = kept.length;
      return 0;
    }
    const arena = new Uint8Array(bytes);
    let at = 0;
    for (let i = 0; i < kept.length; i++) {
      const r = kept[i];
      if (r.value === null) continue;
      arena.set(r.value, at);
      kept[i] = { ...r, value: arena.subarray(at, at + r.value.byteLength) };
      at += r.value.byteLength;
    }
    this.persistence?.rewrite(kept);
    this.records = kept;
    this.cleanCount = kept.length;
    return removed;
  }

  /**
   * Deletes expired records from the head (time retention), in chunks like Kafka deletes whole segments:
   * only once at least {@link MIN_EXPIRED_RECORDS} and half the log expired. Advances `low`. Returns the
   * number of records removed.
   */
  trimExpired(now: number, retentionMs: number): number {
    if (retentionMs < 0 || now - this.#lastTrimCheck < 1_000) return 0;
    this.#lastTrimCheck = now;
    const recs = this.records;
    const cutoff = now - retentionMs;
    if (recs.length === 0 || recs[0].timestamp >= cutoff) return 0;
    let k = 0;
    while (k < recs.length && recs[k].timestamp < cutoff) k++;
    if (k < MIN_EXPIRED_RECORDS || k * 2 < recs.length) return 0;
    const kept = recs.slice(k);
    this.low = kept.length ? kept[0].offset : this.high;
    this.persistence?.rewrite(kept);
    this.records = kept;
    this.cleanCount = Math.min(this.cleanCount, kept.length);
    return k;
  }

  /** Registers a one-shot wake-up for the next append (or {@link notify}). Returns an unregister function. */
  onAppend(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Wakes every registered fetcher (appends, deletion). */
  notify(): void {
    if (this.#listeners.size === 0) return;
    const fns = [...this.#listeners];
    this.#listeners.clear();
    for (const fn of fns) fn();
  }
}

/** A topic of the embedded broker. */
export interface EmbeddedTopic {
  name: string;
  compacted: boolean;
  config: Record<string, string>;
  partitions: PartitionLog[];
  deleted: boolean;
}

/** Kafka's topic-name rule (also keeps names safe as directory names). */
export const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
