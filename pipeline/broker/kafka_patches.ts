/**
 * A faster varint writer for kafkajs's protocol encoder. kafkajs writes every varint (several per record:
 * length, offset and timestamp deltas, key/value/header lengths) by building a JS array and copying it
 * through `Buffer.from(array)`; under Deno's Node Buffer layer that allocation is the single largest CPU
 * cost of producing (measured: a record took ~15 µs to encode, ~6 µs with this). {@link installFastVarints}
 * replaces `writeUVarInt` and `writeVarLong` on kafkajs's Encoder with versions that write the same bytes
 * straight into the encoder's buffer (byte-for-byte equality with the originals is tested in
 * kafka_encoder_test.ts). kafkajs 2.2.4 is pinned; the patch is process-wide.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** kafkajs's Encoder class (internal module). */
type EncoderLike = {
  buf: Uint8Array;
  offset: number;
  ensureAvailable(n: number): void;
};
type EncoderClass = {
  prototype: EncoderLike & {
    writeUVarInt(v: number): unknown;
    writeVarLong(v: unknown): unknown;
  };
  encodeZigZag64(v: unknown): LongLike;
};
type LongLike = { value: bigint };

/** kafkajs's own Encoder (the module instance kafkajs uses). */
export function kafkajsEncoder(): EncoderClass {
  return require("kafkajs/src/protocol/encoder.js") as EncoderClass;
}

type Writers = { writeUVarInt: unknown; writeVarLong: unknown };
let stock: Writers | null = null;
let fast: Writers | null = null;

/** The methods kafkajs shipped with, for tests that compare outputs. */
export function originalVarintWriters(): Writers {
  const p = kafkajsEncoder().prototype;
  return stock ?? { writeUVarInt: p.writeUVarInt, writeVarLong: p.writeVarLong };
}

/** Installs the allocation-free varint writers on kafkajs's Encoder (idempotent). */
export function installFastVarints(): void {
  useFastVarints(true);
}

/**
 * Switches kafkajs's Encoder between the fast writers (`true`) and its own (`false`); returns the previous
 * setting. The bench uses `false` to measure stock kafkajs in a process where lzsync installed them.
 */
export function useFastVarints(on: boolean): boolean {
  let E: EncoderClass;
  try {
    E = kafkajsEncoder();
  } catch {
    return false; // a layout where kafkajs's internals cannot be reached: stay on kafkajs's own writers
  }
  const proto = E.prototype as unknown as Writers;
  stock ??= { writeUVarInt: proto.writeUVarInt, writeVarLong: proto.writeVarLong };
  fast ??= makeFast(E);
  const was = proto.writeUVarInt === fast.writeUVarInt;
  Object.assign(proto, on ? fast : stock);
  return was;
}

function makeFast(E: EncoderClass): Writers {
  const HIGH_BITS = 0xffffffffffffff80n;
  return {
    writeUVarInt: function (this: EncoderLike, value: number) {
      this.ensureAvailable(5);
      const buf = this.buf;
      let o = this.offset;
      while ((value & 0xffffff80) !== 0) {
        buf[o++] = (value & 0x7f) | 0x80;
        value >>>= 7;
      }
      buf[o++] = value & 0x7f;
      this.offset = o;
      return this;
    },
    writeVarLong: function (this: EncoderLike, value: unknown) {
      // kafkajs's zig-zag (on its BigInt-backed Long), then the same byte loop on the BigInt itself.
      let v = E.encodeZigZag64(value).value;
      this.ensureAvailable(10);
      const buf = this.buf;
      let o = this.offset;
      while ((v & HIGH_BITS) !== 0n) {
        buf[o++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      buf[o++] = Number(BigInt.asIntN(32, v)) & 0xff;
      this.offset = o;
      return this;
    },
  };
}
