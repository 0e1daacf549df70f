/**
 * Byte budgets of Kafka produce requests. The broker refuses a partition's record batch larger than the
 * topic's `max.message.bytes` (default: the broker's `message.max.bytes`, 1 MiB) with MESSAGE_TOO_LARGE, and
 * kafkajs puts all of a request's records for one partition into one batch, so a checkpoint of many small
 * records can exceed it as surely as one large record. The producer therefore splits its requests so that
 * every partition's batch fits ({@link splitByBytes}), and refuses up front a record that can never fit
 * ({@link neverFits}).
 *
 * Sizes are upper bounds of the uncompressed v2 record format (the producer sends uncompressed).
 */
import { Buffer } from "node:buffer";

/** A v2 record batch header (61 bytes) plus the log entry overhead (offset and size, 12 bytes). */
export const BATCH_OVERHEAD = 73;

/** The broker default of `message.max.bytes`, used when a topic's limit cannot be read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** Bytes of one produce request at most (the broker's `socket.request.max.bytes` is 100 MiB by default). */
export const REQUEST_MAX_BYTES = 32 * 1024 * 1024;

/** The fields of a record that take bytes on the wire. */
export interface Sized {
  key: string | null;
  value: Uint8Array | null;
  headers?: Record<string, string>;
}

/**
 * An upper bound of the bytes `r` takes inside a record batch: length, attributes, timestamp and offset
 * deltas, key and value lengths (varints, at most 36 bytes together), key, value and headers.
 */
export function recordBytes(r: Sized): number {
  let n = 40 + (r.value?.byteLength ?? 0) + (r.key === null ? 0 : Buffer.byteLength(r.key));
  if (r.headers) {
    for (const k in r.headers) n += 10 + Buffer.byteLength(k) + Buffer.byteLength(r.headers[k]);
  }
  return n;
}

/** True when a record of `bytes` cannot fit a batch of a topic limited to `limit` bytes, even alone. */
export function neverFits(bytes: number, limit: number): boolean {
  return bytes + BATCH_OVERHEAD > limit;
}

/** One topic's messages in a request, with each message's partition and size. */
export interface TopicPart<M> {
  topic: string;
  messages: M[];
}

/**
 * Splits `topics` (each message with its partition and {@link recordBytes}) into consecutive requests in
 * which every partition's batch stays within its topic's `limitOf(topic)` and the request within
 * `requestMax`. Order within a topic is kept across requests, so per-topic offsets can be concatenated. A
 * message that cannot fit even alone still goes (alone in its batch): the broker's refusal is the answer.
 */
export function splitByBytes<M extends { partition?: number }>(
  topics: TopicPart<M>[],
  bytesOf: (m: M) => number,
  limitOf: (topic: string) => number,
  requestMax = REQUEST_MAX_BYTES,
): TopicPart<M>[][] {
  const requests: TopicPart<M>[][] = [];
  let current: TopicPart<M>[] = [];
  let batch = new Map<string, number>();
  let total = 0;
  for (const { topic, messages } of topics) {
    const limit = limitOf(topic);
    let part: TopicPart<M> | null = null;
    for (const m of messages) {
      const b = bytesOf(m);
      const key = `${m.partition ?? -1}\u0000${topic}`;
      const used = batch.get(key) ?? BATCH_OVERHEAD;
      if (total > 0 && (used + b > limit || total + b + BATCH_OVERHEAD > requestMax)) {
        requests.push(current);
        current = [];
        batch = new Map();
        total = 0;
        part = null;
      }
      if (!part) current.push(part = { topic, messages: [] });
      part.messages.push(m);
      batch.set(key, (batch.get(key) ?? BATCH_OVERHEAD) + b);
      total += b + (batch.get(key) === BATCH_OVERHEAD + b ? BATCH_OVERHEAD : 0);
    }
  }
  if (current.length) requests.push(current);
  return requests;
}
