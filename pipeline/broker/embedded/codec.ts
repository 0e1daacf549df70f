/**
 * The binary record format of the embedded broker's partition files. A file starts with a 24-byte header:
 * magic `LZLOG002`, the partition's high offset at the last rewrite (so a compaction that dropped the newest
 * tombstones never lowers the next offset) and its low (log start) offset. Each record, little-endian:
 *
 *   u32 bodyLength | u32 CRC-32C(body) | body
 *   body = f64 offset | f64 timestamp | i32 keyLen (-1 = null) | key | i32 valueLen (-1 = null) | value |
 *          u32 headerCount | (u32 len | name | u32 len | value)*
 *
 * The checksum is CRC-32C (Castagnoli), as in Kafka's record batches. Files of the first format (`LZLOG001`,
 * the same records without the checksum) are still read; the broker rewrites them in the current format the
 * first time it opens the directory for writing.
 *
 * Damage is classified, not guessed: a record that fails its checks is a **torn tail** when no intact record
 * follows it (a write cut short by a crash: safe to truncate), and **corruption** when an intact record with a
 * higher offset follows (bytes damaged in the middle: the loader refuses, `lzsync repair` salvages).
 */
import { crc32c } from "@aws-crypto/crc32c";
import type { Headers } from "../types.ts";
import type { LogRecord } from "./log.ts";

export const MAGIC = "LZLOG002";
/** The first format, without per-record checksums (read, then migrated). */
export const MAGIC_V1 = "LZLOG001";
export const HEADER_BYTES = 24;
/** Smallest body: offset, timestamp, null key, null value, no headers. */
const MIN_BODY = 28;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Upper bound of the encoded size of `r` (strings counted at 3 bytes per UTF-16 unit). */
function maxSize(r: LogRecord): number {
  let n = 8 + 8 + 8 + 4 + 4 + 4 + (r.key === null ? 0 : r.key.length * 3) + (r.value?.length ?? 0);
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
    pos += 8;
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
    dv.setUint32(start, pos - start - 8, true);
    dv.setUint32(start + 4, crc32c(buf.subarray(start + 8, pos)), true);
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

/** A damaged byte range in the middle of a file: `[from, to)`, with an intact record at `to`. */
export interface Damage {
  from: number;
  to: number;
  /** Offset of the last intact record before the damage (-1: none). */
  afterOffset: number;
  /** Offset of the intact record at `to`. */
  nextOffset: number;
}

/** What {@link decodeFile} found. */
export interface DecodedFile {
  records: LogRecord[];
  high: number;
  low: number;
  /** 2 = current format, 1 = without checksums. */
  version: 1 | 2;
  /** Where the intact records end (file length when nothing is torn); bytes past it are a torn tail. */
  validBytes: number;
  /** Damage in the middle of the file. Without `salvage`, decoding stops at the first one. */
  damage: Damage[];
}

/** Decodes the record at `pos`, or null when it fails its length, checksum or structure checks. */
function recordAt(
  buf: Uint8Array,
  dv: DataView,
  pos: number,
  version: 1 | 2,
  topic: string,
  partition: number,
): { record: LogRecord; next: number } | null {
  const pre = version === 2 ? 8 : 4;
  const end = buf.length;
  if (pos + pre > end) return null;
  const len = dv.getUint32(pos, true);
  const bodyEnd = pos + pre + len;
  if (len < MIN_BODY || bodyEnd > end) return null;
  if (version === 2 && crc32c(buf.subarray(pos + pre, bodyEnd)) !== dv.getUint32(pos + 4, true)) return null;
  let p = pos + pre;
  const offset = dv.getFloat64(p, true);
  const timestamp = dv.getFloat64(p + 8, true);
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isFinite(timestamp)) return null;
  p += 16;
  const str = (): string | null | undefined => {
    if (p + 4 > bodyEnd) return undefined;
    const n = dv.getInt32(p, true);
    p += 4;
    if (n < 0) return n === -1 ? null : undefined;
    if (p + n > bodyEnd) return undefined;
    const s = dec.decode(buf.subarray(p, p + n));
    p += n;
    return s;
  };
  const key = str();
  if (key === undefined) return null;
  if (p + 4 > bodyEnd) return null;
  const vl = dv.getInt32(p, true);
  p += 4;
  if (vl < -1 || p + Math.max(0, vl) > bodyEnd) return null;
  const value = vl < 0 ? null : buf.slice(p, p + vl);
  if (vl > 0) p += vl;
  if (p + 4 > bodyEnd) return null;
  const count = dv.getUint32(p, true);
  p += 4;
  const headers: Headers = {};
  for (let i = 0; i < count; i++) {
    const name = str();
    const v = str();
    if (typeof name !== "string" || typeof v !== "string") return null;
    headers[name] = v;
  }
  if (p !== bodyEnd) return null;
  return { record: { topic, partition, offset, key, value, headers, timestamp }, next: bodyEnd };
}

/** The first position after `from` holding an intact record with an offset above `after`, or null. */
function nextIntact(
  buf: Uint8Array,
  dv: DataView,
  from: number,
  after: number,
  version: 1 | 2,
  topic: string,
  partition: number,
): { pos: number; offset: number } | null {
  const pre = version === 2 ? 8 : 4;
  for (let q = from; q + pre + MIN_BODY <= buf.length; q++) {
    const len = dv.getUint32(q, true);
    if (len < MIN_BODY || q + pre + len > buf.length) continue;
    const offset = dv.getFloat64(q + pre, true);
    if (!Number.isSafeInteger(offset) || offset <= after) continue;
    const r = recordAt(buf, dv, q, version, topic, partition);
    if (r) return { pos: q, offset };
  }
  return null;
}

/**
 * Decodes a whole partition file. Throws for a file that is not a partition file (bad header). A torn tail
 * shows as `validBytes < buf.length`; damage in the middle as `damage` (with `salvage`, every damaged range
 * is skipped and the intact records after it are kept).
 */
export function decodeFile(
  buf: Uint8Array,
  topic: string,
  partition: number,
  opts: { salvage?: boolean } = {},
): DecodedFile {
  const magic = buf.length >= HEADER_BYTES ? dec.decode(buf.subarray(0, 8)) : "";
  if (magic !== MAGIC && magic !== MAGIC_V1) {
    throw new Error(`not an lzsync partition file (bad header) for ${topic}:${partition}`);
  }
  const version = magic === MAGIC ? 2 : 1;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const high = dv.getFloat64(8, true);
  const low = dv.getFloat64(16, true);
  const records: LogRecord[] = [];
  const damage: Damage[] = [];
  let pos = HEADER_BYTES;
  let last = -1;
  while (pos < buf.length) {
    const r = recordAt(buf, dv, pos, version, topic, partition);
    if (r && r.record.offset > last) {
      records.push(r.record);
      last = r.record.offset;
      pos = r.next;
      continue;
    }
    const next = nextIntact(buf, dv, pos + 1, last, version, topic, partition);
    if (!next) break; // nothing intact follows: a torn tail
    damage.push({ from: pos, to: next.pos, afterOffset: last, nextOffset: next.offset });
    if (!opts.salvage) break;
    pos = next.pos;
  }
  return {
    records,
    high,
    low,
    version,
    validBytes: damage.length && !opts.salvage ? buf.length : pos,
    damage,
  };
}
