/**
 * Kafka's default partitioner: murmur2 (seed 0x9747b28c) over the key's UTF-8 bytes, made positive with
 * `& 0x7fffffff`, modulo the partition count. Keys land on the same partition numbers as with the Java
 * client and kafkajs, so data written by the embedded broker partitions exactly like data on Kafka.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 hash of `data` as a signed 32-bit integer (same bits as the Java `int`). */
export function murmur2(data: Uint8Array, length = data.length): number {
  let h = SEED ^ length;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= data[blocks + 2] << 16;
    // falls through
    case 2:
      h ^= data[blocks + 1] << 8;
    // falls through
    case 1:
      h ^= data[blocks];
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/** The murmur2 hash of a string's UTF-8 bytes, without allocating for keys up to the scratch size. */
export function murmur2String(key: string): number {
  // A UTF-16 code unit encodes to at most 3 UTF-8 bytes.
  if (key.length * 3 > scratch.length) scratch = new Uint8Array(Math.max(key.length * 3, scratch.length * 2));
  const { written } = encoder.encodeInto(key, scratch);
  return murmur2(scratch, written);
}

/** The partition Kafka's default partitioner picks for a non-null key. */
export function partitionForKey(key: string | Uint8Array, numPartitions: number): number {
  if (numPartitions <= 0) throw new RangeError(`numPartitions must be positive, got ${numPartitions}`);
  const h = typeof key === "string" ? murmur2String(key) : murmur2(key);
  return toPositive(h) % numPartitions;
}

/**
 * A partitioner with Kafka's default behaviour: keyed records by murmur2, null-key records round-robin
 * from a random start (one counter per topic, as kafkajs does).
 */
export class DefaultPartitioner {
  #counters = new Map<string, number>();

  /** The partition for `key` in a topic with `numPartitions` partitions. */
  partition(topic: string, key: string | null, numPartitions: number): number {
    if (key !== null) return partitionForKey(key, numPartitions);
    let c = this.#counters.get(topic);
    if (c === undefined) c = Math.floor(Math.random() * 0x7fffffff);
    this.#counters.set(topic, (c + 1) & 0x7fffffff);
    return c % numPartitions;
  }
}
