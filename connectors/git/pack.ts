/**
 * Git objects and packfiles written directly (node:zlib, node:crypto), for commits of thousands of files:
 * isomorphic-git writes one loose object per blob through an async compression stream, which costs ~1 ms
 * per object; building one pack in memory costs a few µs per object. The pack is written into the local
 * gitdir with its `.idx` (so isomorphic-git reads the objects like any other) and is also the body of the
 * push (`receive_pack.ts`).
 */
import { createHash } from "node:crypto";
import { crc32, deflateSync } from "node:zlib";
import { join } from "node:path";
import { writeFileAtomic } from "./ref_file.ts";

/** Object types of the pack format. */
export type ObjectType = "commit" | "tree" | "blob";
const TYPE_CODE: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3 };

/** An object ready to be packed. */
export interface GitObject {
  oid: string;
  type: ObjectType;
  content: Uint8Array;
}

const enc = new TextEncoder();

/** Hashes `content` as a git object of `type`; `oid` skips the hashing when the caller computed it already. */
export function gitObject(type: ObjectType, content: Uint8Array | string, oid?: string): GitObject {
  const bytes = typeof content === "string" ? enc.encode(content) : content;
  oid ??= createHash("sha1").update(`${type} ${bytes.length}\0`).update(bytes).digest("hex");
  return { oid, type, content: bytes };
}

/** A tree entry. `mode` is `100644`, `100755`, `120000`, `040000` (tree) or `160000`. */
export interface TreeEntry {
  mode: string;
  path: string;
  oid: string;
}

const HEX = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 16; i++) {
    t["0123456789abcdef".charCodeAt(i)] = i;
    t["0123456789ABCDEF".charCodeAt(i)] = i;
  }
  return t;
})();

/** Writes the bytes of hex string `hex` into `out` at `at` (a table lookup per digit, not parseInt). */
function hexInto(hex: string, out: Uint8Array, at: number): void {
  const n = hex.length >> 1;
  for (let i = 0; i < n; i++) {
    const hi = HEX[hex.charCodeAt(2 * i)] ?? -1;
    const lo = HEX[hex.charCodeAt(2 * i + 1)] ?? -1;
    out[at + i] = hi >= 0 && lo >= 0 ? (hi << 4) | lo : parseInt(hex.substr(i * 2, 2), 16);
  }
}

/** Git's tree order: by name, with directories compared as if they ended in `/`. */
function treeOrder(a: TreeEntry, b: TreeEntry): number {
  const ka = a.mode === "040000" ? `${a.path}/` : a.path;
  const kb = b.mode === "040000" ? `${b.path}/` : b.path;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Encodes a tree object. */
export function treeObject(entries: TreeEntry[]): GitObject {
  // git's order (treeOrder) is the order of the names with "/" after each directory's: the keys are sorted
  // natively (the same code-unit order as `<`), not through a comparator creating strings per comparison
  const byKey = new Map<string, TreeEntry>();
  for (const e of entries) byKey.set(e.mode === "040000" ? `${e.path}/` : e.path, e);
  const sorted = byKey.size === entries.length
    ? [...byKey.keys()].sort().map((k) => byKey.get(k)!)
    : [...entries].sort(treeOrder); // a name twice (no valid tree): as it always was
  // one buffer: "<mode> <path>\0" (at most 3 UTF-8 bytes per UTF-16 unit) then the 20-byte id, per entry
  let max = 0;
  for (const e of sorted) max += e.mode.length + 2 + e.path.length * 3 + (e.oid.length >> 1);
  const buf = new Uint8Array(max);
  let at = 0;
  for (const e of sorted) {
    at += enc.encodeInto(`${e.mode === "040000" ? "40000" : e.mode} ${e.path}\0`, buf.subarray(at)).written;
    hexInto(e.oid, buf, at);
    at += e.oid.length >> 1;
  }
  return gitObject("tree", buf.slice(0, at));
}

/** Encodes a commit object (author = committer, UTC). */
export function commitObject(o: {
  tree: string;
  parents: string[];
  author: { name: string; email: string };
  timestamp: number;
  message: string;
}): GitObject {
  const who = `${o.author.name} <${o.author.email}> ${o.timestamp} +0000`;
  const lines = [
    `tree ${o.tree}`,
    ...o.parents.map((p) => `parent ${p}`),
    `author ${who}`,
    `committer ${who}`,
  ];
  const message = o.message.endsWith("\n") ? o.message : `${o.message}\n`;
  return gitObject("commit", `${lines.join("\n")}\n\n${message}`);
}

/** Bytes of a pack object header for an object of `size` bytes (4 size bits, then 7 per byte). */
function headerLength(size: number): number {
  let n = 1;
  for (size = Math.floor(size / 16); size > 0; size = Math.floor(size / 128)) n++;
  return n;
}

/** Writes the pack object header (type and size) at `at` in `out`; returns the offset after it. */
function writeHeader(out: Uint8Array, at: number, type: ObjectType, size: number): number {
  let byte = (TYPE_CODE[type] << 4) | (size & 0x0f);
  size = Math.floor(size / 16);
  while (size > 0) {
    out[at++] = byte | 0x80;
    byte = size & 0x7f;
    size = Math.floor(size / 128);
  }
  out[at++] = byte;
  return at;
}

/**
 * zlib level of packed objects of at least {@link STORE_BELOW} bytes: 1 (fastest), git's own default for loose
 * objects (`core.looseCompression`). Objects of a fabric are small YAML files, where zlib's default level
 * costs about 1.7x the time of level 1 for a pack about a quarter smaller; a server (or `git gc`) repacks as
 * it likes, the objects are the same.
 */
export const PACK_COMPRESSION = 1;

/**
 * Objects smaller than this are packed as stored (uncompressed) zlib streams, as git does at
 * `pack.compression=0`: one `deflateSync` call costs ~14 µs in Deno's node:zlib whatever the size (a new
 * zlib handle per call), most of a commit of 10,000 small managed files, and level 1 saves only about a
 * quarter of a few hundred bytes (a pack of 10,000 such objects grows by under 1 MB).
 */
export const STORE_BELOW = 4096;

/** Adler-32 of `b` (the zlib trailer). */
function adler32(b: Uint8Array): number {
  let a = 1, s = 0;
  for (let i = 0; i < b.length;) {
    const end = Math.min(i + 3800, b.length); // no overflow past 2^31 before the modulo
    for (; i < end; i++) {
      a += b[i];
      s += a;
    }
    a %= 65521;
    s %= 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/** Bytes of {@link zlibStored} of `n` bytes of content. */
function storedLength(n: number): number {
  return 2 + n + Math.max(1, Math.ceil(n / 65535)) * 5 + 4;
}

/** `content` as a zlib stream of stored deflate blocks (RFC 1950/1951: no compression, any size). */
export function zlibStored(content: Uint8Array): Uint8Array {
  const out = new Uint8Array(storedLength(content.length));
  zlibStoredInto(content, out, 0);
  return out;
}

/** Writes {@link zlibStored} of `content` at `at` in `out`; returns the offset after it. */
function zlibStoredInto(content: Uint8Array, out: Uint8Array, at: number): number {
  const blocks = Math.max(1, Math.ceil(content.length / 65535));
  out[at] = 0x78; // deflate, 32 KiB window
  out[at + 1] = 0x01; // fastest level, FCHECK so that 0x7801 % 31 == 0
  at += 2;
  for (let i = 0, k = 0; k < blocks; k++) {
    const len = Math.min(65535, content.length - i);
    out[at] = k === blocks - 1 ? 1 : 0; // BFINAL on the last block, BTYPE 00 (stored)
    out[at + 1] = len & 0xff;
    out[at + 2] = len >> 8;
    out[at + 3] = ~len & 0xff;
    out[at + 4] = (~len >> 8) & 0xff;
    out.set(content.subarray(i, i + len), at + 5);
    at += 5 + len;
    i += len;
  }
  const adler = adler32(content);
  out[at] = adler >>> 24;
  out[at + 1] = (adler >>> 16) & 0xff;
  out[at + 2] = (adler >>> 8) & 0xff;
  out[at + 3] = adler & 0xff;
  return at + 4;
}

/** A built pack: its bytes, name (trailer sha1) and the `.idx` that lets git/isomorphic-git read it. */
export interface Pack {
  sha: string;
  pack: Uint8Array;
  idx: Uint8Array;
}

/**
 * Packs `objects` (deduplicated by oid) without deltas. The pack is laid out in one buffer sized up front
 * (objects under {@link STORE_BELOW} are written there as stored zlib streams directly), so each object costs
 * one CRC-32 call over its bytes in place and the pack one SHA-1 call, not a copy and hash update per chunk.
 */
export function buildPack(objects: Iterable<GitObject>): Pack {
  const unique = new Map<string, GitObject>();
  for (const o of objects) unique.set(o.oid, o);
  const deflated = new Map<GitObject, Uint8Array>();
  let size = 12 + 20;
  for (const o of unique.values()) {
    const n = o.content.length;
    size += headerLength(n);
    if (n < STORE_BELOW) size += storedLength(n);
    else {
      const z = deflateSync(o.content, { level: PACK_COMPRESSION });
      deflated.set(o, z);
      size += z.length;
    }
  }
  const pack = new Uint8Array(size);
  pack.set(enc.encode("PACK"));
  const dv = new DataView(pack.buffer);
  dv.setUint32(4, 2);
  dv.setUint32(8, unique.size);
  let at = 12;
  const entries: { oid: string; offset: number; crc: number }[] = [];
  for (const o of unique.values()) {
    const offset = at;
    at = writeHeader(pack, at, o.type, o.content.length);
    const z = deflated.get(o);
    if (z) {
      pack.set(z, at);
      at += z.length;
    } else at = zlibStoredInto(o.content, pack, at);
    // the .idx keeps the CRC-32 of each object's bytes in the pack: header then deflated data
    entries.push({ oid: o.oid, offset, crc: crc32(pack.subarray(offset, at)) });
  }
  const trailer = createHash("sha1").update(pack.subarray(0, at)).digest();
  pack.set(trailer, at);
  const sha = Buffer_toHex(trailer);
  return { sha, pack, idx: buildIdx(entries, trailer) };
}

function Buffer_toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function buildIdx(
  entries: { oid: string; offset: number; crc: number }[],
  packSha: Uint8Array,
): Uint8Array {
  const sorted = [...entries].sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  const n = sorted.length;
  const big = sorted.filter((e) => e.offset >= 0x80000000).length;
  const size = 8 + 256 * 4 + n * 20 + n * 4 + n * 4 + big * 8 + 40;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set([0xff, 0x74, 0x4f, 0x63]);
  dv.setUint32(4, 2);
  let at = 8;
  const fan = new Uint32Array(256);
  for (const e of sorted) fan[(HEX[e.oid.charCodeAt(0)] << 4) | HEX[e.oid.charCodeAt(1)]]++;
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    sum += fan[i];
    dv.setUint32(at, sum);
    at += 4;
  }
  for (const e of sorted) {
    hexInto(e.oid, out, at);
    at += 20;
  }
  for (const e of sorted) {
    dv.setUint32(at, e.crc);
    at += 4;
  }
  let bigIndex = 0;
  const bigOffsets: number[] = [];
  for (const e of sorted) {
    if (e.offset >= 0x80000000) {
      dv.setUint32(at, 0x80000000 | bigIndex++);
      bigOffsets.push(e.offset);
    } else dv.setUint32(at, e.offset);
    at += 4;
  }
  for (const off of bigOffsets) {
    dv.setUint32(at, Math.floor(off / 2 ** 32));
    dv.setUint32(at + 4, off >>> 0);
    at += 8;
  }
  out.set(packSha, at);
  at += 20;
  out.set(createHash("sha1").update(out.subarray(0, at)).digest(), at);
  return out;
}

/** Writes a pack and its index into `gitdir/objects/pack/` (idx last, so readers never see half a pack). */
export async function writePack(gitdir: string, pack: Pack): Promise<void> {
  const dir = join(gitdir, "objects", "pack");
  await Deno.mkdir(dir, { recursive: true });
  const base = join(dir, `pack-${pack.sha}`);
  // like git's tmp_pack_*: readers only look at pack-*.idx, so a kill leaves at most a stray temp file
  await writeFileAtomic(dir, `${base}.pack`, pack.pack);
  await writeFileAtomic(dir, `${base}.idx`, pack.idx);
}
