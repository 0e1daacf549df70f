/**
 * The binary record format of the embedded broker's partition files. A file starts with a 24-byte header:
 * magic `LZLOG001`, the partition's high offset at the last rewrite (so a compaction that dropped the newest
 * tombstones never lowers the next offset) and its low (log start) offset. Each record, little-endian:
 *
 *   u32 bodyLength | f64 offset | f64 timestamp | i32 keyLen (-1 = null) | key | i32 valueLen (-1 = null) |
 *   value | u32 headerCount | (u32 len | name | u32 len | value)*
 *
 * Decoding stops at the first incomplete record (a write cut short) and reports how many bytes were valid.
 */
import type { Headers } from "./types.ts";
import type { LogRecord } from "./embedded_log.ts";

export const MAGIC = "LZLOG001";
export const HEADER_BYTES = 24;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Upper bound of the encoded size of `r` (strings counted at 3 bytes per UTF-16 unit). */
function maxSize(r: LogRecord): number {
  let n = 4 + 8 + 8 + 4 + 4 + 4 + (r.key === null ? 0 : r.key.length * 3) + (r.value?.length ?? 0);
  for (const k in r.headers) n += 8 + (k.length + r.headers[k].length) * 3;
  return n;
}

let scratch = new Uint8Array(1 << 20);

/** Encodes records into a view of a shared scratch buffer (valid until the next call). */
export function encodeRecords(records: LogRecord[]): Uint8Array {
  let bound = 0;
  for (let i = 0; i < records.length; i++) bound += maxSize(records[i]);
  if (bound > scratch.length) scratch = new Uint8Array(Math.max(bound, scratch.length * 2));
  const buf = scratch;
  const dv = new DataView(buf.buffer);
  let pos = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const start = pos;
    pos += 4;
    dv.setFloat64(pos, r.offset, true);
    dv.setFloat64(pos + 8, r.timestamp, true);
    pos += 16;
    pos = putString(buf, dv, pos, r.key);
    if (r.value === null) {
      dv.setInt32(pos, -1, true);
      pos += 4;
    } else {
      dv.setInt32(pos, r.value.length, true);
      buf.set(r.value, pos + 4);
      pos += 4 + r.value.length;
    }
    const countAt = pos;
    pos += 4;
    let count = 0;
    for (const k in r.headers) {
      pos = putString(buf, dv, pos, k);
      pos = putString(buf, dv, pos, r.headers[k]);
      count++;
    }
    dv.setUint32(countAt, count, true);
    dv.setUint32(start, pos - start - 4, true);
  }
  return buf.subarray(0, pos);
}

function putString(buf: Uint8Array, dv: DataView, pos: number, s: string | null): number {
  if (s === null) {
    dv.setInt32(pos, -1, true);
    return pos + 4;
  }
  const { written } = enc.encodeInto(s, buf.subarray(pos + 4));
  dv.setInt32(pos, written, true);
  return pos + 4 + written;
}

/** The file header carrying the partition's high and low offsets. */
export function encodeHeader(high: number, low: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  enc.encodeInto(MAGIC, h);
  const dv = new DataView(h.buffer);
  dv.setFloat64(8, high, true);
  dv.setFloat64(16, low, true);
  return h;
}

/** Decodes a whole partition file. `validBytes` < `buf.length` means a torn tail to truncate. */
export function decodeFile(
  buf: Uint8Array,
  topic: string,
  partition: number,
): { records: LogRecord[]; high: number; low: number; validBytes: number } {
  if (buf.length < HEADER_BYTES || dec.decode(buf.subarray(0, 8)) !== MAGIC) {
    throw new Error(`not an lzsync partition file (bad header) for ${topic}:${partition}`);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const high = dv.getFloat64(8, true);
  const low = dv.getFloat64(16, true);
  const records: LogRecord[] = [];
  let pos = HEADER_BYTES;
  const end = buf.length;
  while (pos + 4 <= end) {
    const len = dv.getUint32(pos, true);
    if (pos + 4 + len > end || len < 28) break;
    let p = pos + 4;
    const offset = dv.getFloat64(p, true);
    const timestamp = dv.getFloat64(p + 8, true);
    p += 16;
    const kl = dv.getInt32(p, true);
    p += 4;
    const key = kl < 0 ? null : dec.decode(buf.subarray(p, p + kl));
    if (kl > 0) p += kl;
    const vl = dv.getInt32(p, true);
    p += 4;
    const value = vl < 0 ? null : buf.slice(p, p + vl);
    if (vl > 0) p += vl;
    const count = dv.getUint32(p, true);
    p += 4;
    const headers: Headers = {};
    for (let i = 0; i < count; i++) {
      const hl = dv.getInt32(p, true);
      const name = dec.decode(buf.subarray(p + 4, p + 4 + hl));
      p += 4 + hl;
      const vl2 = dv.getInt32(p, true);
      headers[name] = dec.decode(buf.subarray(p + 4, p + 4 + vl2));
      p += 4 + vl2;
    }
    if (p !== pos + 4 + len) {
      throw new Error(`corrupt record at byte ${pos} of partition file ${topic}:${partition}`);
    }
    records.push({ topic, partition, offset, key, value, headers, timestamp });
    pos += 4 + len;
  }
  return { records, high, low, validBytes: pos };
}
