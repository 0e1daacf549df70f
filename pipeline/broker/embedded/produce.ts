/**
 * The append path of the embedded broker: partitions a batch with Kafka's default partitioner, stamps
 * offsets and timestamps, copies the value bytes into one buffer per batch (the caller may reuse its buffers;
 * a compaction copies the survivors of a compacted topic out of it, so no batch buffer stays pinned), and appends each
 * partition's share in one call (one write syscall per partition when a data directory is used).
 * Everything is validated before anything is appended, so a rejected batch leaves no partial write.
 */
import { LzError } from "../../errors.ts";
import type { DefaultPartitioner } from "../murmur2.ts";
import type { EmbeddedTopic, LogRecord } from "./log.ts";
import type { Headers, ProduceRecord, RecordMetadata } from "../types.ts";

/** Appends `records` to `t`; returns the metadata in input order. */
export function appendBatch(
  t: EmbeddedTopic,
  records: ProduceRecord[],
  partitioner: DefaultPartitioner,
  now: number,
): RecordMetadata[] {
  const topic = t.name;
  const n = t.partitions.length;
  const out: RecordMetadata[] = new Array(records.length);
  const buckets: (LogRecord[] | undefined)[] = new Array(n);
  // Values share one buffer per batch (one allocation, not one per record).
  let total = 0;
  for (let i = 0; i < records.length; i++) total += records[i].value?.length ?? 0;
  const arena = new Uint8Array(total);
  let lastHeaders: ProduceRecord["headers"] = undefined;
  let headersCopy: Headers = {};
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    let p: number;
    if (r.partition !== undefined && r.partition !== null) {
      p = r.partition;
      if (!Number.isInteger(p) || p < 0 || p >= n) {
        throw new LzError(
          "UNKNOWN_PARTITION",
          `topic ${topic} has ${n} partition(s); partition ${p} does not exist`,
        );
      }
    } else p = n === 1 ? 0 : partitioner.partition(topic, r.key, n);
    if (r.key === null && t.compacted) {
      throw new LzError("INVALID_RECORD", `compacted topic ${topic} cannot accept a record without a key`);
    }
    const src = r.value;
    let value: Uint8Array | null = null;
    if (src !== null) {
      arena.set(src, at);
      value = arena.subarray(at, at + src.length);
      at += src.length;
    }
    const bucket = buckets[p] ??= [];
    const offset = t.partitions[p].high + bucket.length;
    // records of a batch often share one headers object (a changelog's applied offsets): one copy for them
    if (r.headers !== lastHeaders || r.headers === undefined) {
      lastHeaders = r.headers;
      headersCopy = r.headers ? { ...r.headers } : {};
    }
    bucket.push({
      topic,
      partition: p,
      offset,
      key: r.key,
      value,
      headers: headersCopy,
      timestamp: r.timestamp ?? now,
    });
    out[i] = { topic, partition: p, offset };
  }
  for (let p = 0; p < n; p++) {
    const b = buckets[p];
    if (b) t.partitions[p].append(b);
  }
  return out;
}
