/**
 * Restores task stores from their compacted changelog topics (`<app>-<store>-changelog`, partition = task).
 * Reads each changelog partition from a start offset (earliest, or where an in-memory standby copy stopped)
 * up to the high offset seen at the start, applies puts and tombstones, and collects the highest source
 * offsets stamped in the {@link SRC_HEADER} header: the host skips input records at or below them.
 */
import type { Batch, Broker, GroupOffset } from "../broker/types.ts";
import type { Logger } from "../log.ts";
import { LzError } from "../errors.ts";
import { decodeJson } from "../serde.ts";
import { changelogTopic } from "./types.ts";
import { FMT_HEADER, type MemoryStore, SRC_HEADER } from "./store.ts";

/** One task to restore: its stores and, per store, the changelog offset to start at (default: earliest). */
export interface RestoreTarget {
  partition: number;
  stores: Map<string, MemoryStore>;
  from?: Record<string, number>;
}

/** What a restore found for one task. */
export interface RestoreResult {
  /** Highest applied source offset per `topic:partition`. */
  applied: Record<string, number>;
  /** Per store, the changelog offset after the last record applied (the high offset at start). */
  positions: Record<string, number>;
  /** Changelog records applied. */
  records: number;
}

/** Merges the source offsets of a changelog header into `into` (max per source partition). */
export function mergeApplied(
  into: Record<string, number>,
  header: string | undefined,
  cache: { s?: string; v?: Record<string, number> },
): void {
  if (!header) return;
  let v: Record<string, number>;
  if (cache.s === header) v = cache.v!;
  else {
    try {
      v = JSON.parse(header);
    } catch {
      return;
    }
    cache.s = header;
    cache.v = v;
  }
  for (const tp in v) if (!(into[tp] >= v[tp])) into[tp] = v[tp];
}

/**
 * Restores every target in one pass over the changelog topics. A target whose `from` is outside the
 * partition's current [low, high] (the changelog was recreated) is cleared and restored from earliest.
 */
export async function restoreStores(
  broker: Broker,
  app: string,
  targets: RestoreTarget[],
  log: Logger,
  stallMs = 60_000,
): Promise<Map<number, RestoreResult>> {
  const results = new Map<number, RestoreResult>();
  if (targets.length === 0) return results;
  const admin = broker.admin();
  const storeNames = [...targets[0].stores.keys()];
  const byTopic = new Map(storeNames.map((s) => [changelogTopic(app, s), s]));
  const from: GroupOffset[] = [];
  // pending: "topic:partition" -> [target result, store, stop offset]
  const pending = new Map<string, { res: RestoreResult; store: MemoryStore; end: number }>();
  for (const t of targets) results.set(t.partition, { applied: {}, positions: {}, records: 0 });
  for (const [topic, name] of byTopic) {
    const offsets = await admin.topicOffsets(topic);
    const mine = new Map(targets.map((t) => [t.partition, t]));
    for (const o of offsets) {
      const t = mine.get(o.partition);
      let start = o.high;
      if (t) {
        const res = results.get(t.partition)!;
        const store = t.stores.get(name)!;
        start = t.from?.[name] ?? o.low;
        if (start < o.low || start > o.high) {
          log.warn("standby copy does not match the changelog; restoring from earliest", {
            topic,
            partition: o.partition,
          });
          store.clear();
          start = o.low;
        }
        res.positions[name] = o.high;
        if (start < o.high) pending.set(`${topic}:${o.partition}`, { res, store, end: o.high });
      }
      from.push({ topic, partition: o.partition, offset: start });
    }
    for (const t of targets) {
      if (!offsets.some((o) => o.partition === t.partition)) {
        throw new LzError(
          "CHANGELOG_PARTITIONS",
          `changelog ${topic} has ${offsets.length} partition(s) but task ${t.partition} needs partition ${t.partition}; ` +
            `recreate it (lzsync replay --group ${app}) or fix the input partition count`,
        );
      }
    }
  }
  if (pending.size === 0) return results;

  const reader = broker.reader({ topics: [...byTopic.keys()], from });
  const cache: { s?: string; v?: Record<string, number> } = {};
  let done!: () => void;
  let fail!: (err: unknown) => void;
  const finished = new Promise<void>((res, rej) => {
    done = res;
    fail = rej;
  });
  let lastBatch = Date.now();
  const eachBatch = (batch: Batch): Promise<void> => {
    lastBatch = Date.now();
    const key = `${batch.topic}:${batch.partition}`;
    const p = pending.get(key);
    if (!p) return Promise.resolve();
    try {
      for (const r of batch.records) {
        if (r.offset >= p.end) break;
        p.store.restoreWritten(r.key!, r.value === null ? null : decodeJson(r.value), r.headers[FMT_HEADER]);
        mergeApplied(p.res.applied, r.headers[SRC_HEADER], cache);
        p.res.records++;
      }
    } catch (err) {
      fail(
        err instanceof LzError
          ? err
          : new LzError("CHANGELOG_CORRUPT", `changelog ${key} holds a record that is not JSON: ${err}`, {
            cause: err,
          }),
      );
      return Promise.resolve();
    }
    if (batch.records[batch.records.length - 1].offset >= p.end - 1) {
      pending.delete(key);
      if (pending.size === 0) done();
    }
    return Promise.resolve();
  };
  // Compaction can remove the tail of a partition we wait for: re-check the offsets when nothing arrives.
  let checking = false;
  const watchdog = setInterval(async () => {
    if (checking || Date.now() - lastBatch < 1000) return;
    if (Date.now() - lastBatch > stallMs) {
      fail(
        new LzError(
          "RESTORE_STALLED",
          `restoring ${[...pending.keys()].join(", ")} from ${broker.address}: nothing read for ${
            stallMs / 1000
          } s; ` +
            `is the broker reachable and the changelog readable?`,
          { retriable: true },
        ),
      );
      return;
    }
    checking = true;
    try {
      for (const [key, p] of pending) {
        const i = key.lastIndexOf(":");
        const offs = await admin.topicOffsets(key.slice(0, i));
        const o = offs.find((x) => x.partition === Number(key.slice(i + 1)));
        if (!o || o.low >= p.end) pending.delete(key);
      }
      if (pending.size === 0) done();
    } catch (err) {
      fail(err);
    } finally {
      checking = false;
    }
  }, 500);
  // Some readers resolve run() once started, others only when stopped: never await it before `finished`.
  const running = reader.run(eachBatch);
  running.catch(fail);
  try {
    await finished;
  } finally {
    clearInterval(watchdog);
    await reader.stop();
    await running.catch(() => {});
  }
  return results;
}
