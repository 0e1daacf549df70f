/**
 * Conversion of kafkajs's fetched records into lzsync's {@link ConsumedRecord}: offsets and timestamps from
 * strings to numbers, keys and header values from Buffers to UTF-8 strings, values to plain Uint8Array
 * views (no copy) of the bytes kafkajs decoded.
 */
import type { Batch as KafkaJsBatch, IHeaders, KafkaMessage } from "kafkajs";
import type { ConsumedRecord, Headers } from "../types.ts";

const decoder = new TextDecoder();

type HeaderValue = IHeaders[string];

function headerText(v: HeaderValue): string | undefined {
  if (v === undefined || v === null) return undefined;
  // A header key sent twice arrives as an array; like Java's lastHeader, the last one wins.
  const one = Array.isArray(v) ? v[v.length - 1] : v;
  if (one === undefined || one === null) return undefined;
  return typeof one === "string" ? one : decoder.decode(one);
}

/** kafkajs headers as a plain string map. */
export function toHeaders(h: IHeaders | undefined): Headers {
  const out: Headers = {};
  if (!h) return out;
  for (const k of Object.keys(h)) {
    const v = headerText(h[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A plain Uint8Array view of a Buffer's bytes (or null). */
export function toBytes(b: Uint8Array | null | undefined): Uint8Array | null {
  if (b === null || b === undefined) return null;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** One kafkajs message as a consumed record. */
export function toRecord(topic: string, partition: number, m: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key === null || m.key === undefined ? null : decoder.decode(m.key),
    value: toBytes(m.value),
    headers: toHeaders(m.headers),
    timestamp: Number(m.timestamp),
  };
}

/** Every message of a kafkajs batch as consumed records, in offset order. */
export function toRecords(batch: KafkaJsBatch): ConsumedRecord[] {
  const { topic, partition, messages } = batch;
  const out = new Array<ConsumedRecord>(messages.length);
  for (let i = 0; i < messages.length; i++) out[i] = toRecord(topic, partition, messages[i]);
  return out;
}
