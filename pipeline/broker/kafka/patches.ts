/**
 * Two small, process-wide patches of kafkajs internals (kafkajs 2.2.4 is pinned), each tested against the
 * original behaviour in kafka/patches_test.ts. Each is installed only when kafkajs's internals have the shape
 * it was written against; otherwise it is left out and {@link installKafkajsPatches} says why, which the Kafka
 * broker logs once as a warning (lzsync then runs on kafkajs's own, slower code — nothing else changes):
 *
 * 1. Varints. kafkajs writes every varint (several per record: length, offset and timestamp deltas,
 *    key/value/header lengths) by building a JS array and copying it through `Buffer.from(array)`; under
 *    Deno's Node Buffer layer that allocation is the largest CPU cost of producing (a record took ~15 µs to
 *    encode, ~6 µs with this). `writeUVarInt` and `writeVarLong` are replaced by versions that write the
 *    same bytes straight into the encoder's buffer.
 * 2. The request queue's timer. After its first response, every kafkajs connection re-arms a 1 ms timer
 *    forever (`setTimeout` with a negative delay, which Node clamps to 1 ms and warns about:
 *    "TimeoutNegativeWarning"), even with nothing queued: ~1,800 wake-ups a second in an idle process with
 *    one producer and one consumer. The timer is now only armed while requests are waiting.
 *
 * Measured by `deno task bench kafka_patches` (README "kafkajs reach-ins"): patch 1 cuts the CPU to encode
 * a record to 0.30–0.51× of stock; patch 2 takes an idle producer from ~350–470 timer wake-ups/s to 0.
 * Neither moves the end-to-end produce→consume rate beyond the noise of a shared 2-core machine. Both are
 * speed/idle-cost patches, not correctness ones: with kafkajs's own code lzsync behaves the same. The shapes
 * they patch are pinned by kafka/private_test.ts.
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

/** Why each patch is not installed, or null when it is. */
export interface PatchReport {
  varints: string | null;
  requestQueue: string | null;
}

/** Loaders of kafkajs's internal modules (injectable so a test can hand in a changed kafkajs). */
export interface KafkajsInternals {
  encoder(): unknown;
  requestQueue(): unknown;
}

const realInternals: KafkajsInternals = { encoder: kafkajsEncoder, requestQueue: kafkajsRequestQueue };

/** What is missing from `load()`'s module for a patch to apply, or null when nothing is. */
function shapeProblem(
  what: string,
  load: () => unknown,
  methods: string[],
  statics: string[] = [],
): string | null {
  let mod: { prototype?: Record<string, unknown> } & Record<string, unknown>;
  try {
    mod = load() as typeof mod;
  } catch (err) {
    return `kafkajs's ${what} module cannot be loaded (${(err as Error).message})`;
  }
  const missing = [
    ...methods.filter((m) => typeof mod?.prototype?.[m] !== "function").map((m) => `${what}.prototype.${m}`),
    ...statics.filter((m) => typeof mod?.[m] !== "function").map((m) => `${what}.${m}`),
  ];
  return missing.length ? `kafkajs changed: ${missing.join(", ")} missing` : null;
}

/**
 * Installs each patch whose kafkajs shape is there (idempotent) and reports, per patch, why it was not. Never
 * throws: both patches are about speed, not correctness.
 */
export function installKafkajsPatches(internals: KafkajsInternals = realInternals): PatchReport {
  const report: PatchReport = {
    varints: shapeProblem(
      "Encoder",
      internals.encoder,
      ["writeUVarInt", "writeVarLong", "ensureAvailable"],
      ["encodeZigZag64"],
    ),
    requestQueue: shapeProblem("RequestQueue", internals.requestQueue, [
      "scheduleCheckPendingRequests",
      "checkPendingRequests",
    ]),
  };
  if (internals === realInternals) {
    if (!report.varints) useFastVarints(true);
    if (!report.requestQueue) useQuietRequestQueue(true);
  }
  return report;
}

/** One warning per patch left out, naming what it costs (the Kafka broker logs them once per process). */
export function patchFallbackWarnings(report: PatchReport): string[] {
  const out: string[] = [];
  if (report.varints) {
    out.push(
      `kafkajs varint patch not installed: ${report.varints}; records encode with kafkajs's own code (about 2-3x the CPU)`,
    );
  }
  if (report.requestQueue) {
    out.push(
      `kafkajs request-queue patch not installed: ${report.requestQueue}; idle connections wake every 1 ms as in stock kafkajs`,
    );
  }
  return out;
}

/**
 * Switches both patches on (`true`) or back to kafkajs's own code (`false`); returns whether they were on.
 * The bench uses `false` to measure stock kafkajs in a process where lzsync installed them.
 */
export function useKafkajsPatches(on: boolean): boolean {
  const was = useFastVarints(on);
  useQuietRequestQueue(on);
  return was;
}

type RequestQueueLike = {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
};
type Schedule = (this: RequestQueueLike) => void;
let stockSchedule: Schedule | null = null;

/** kafkajs's RequestQueue class (internal module). */
export function kafkajsRequestQueue(): {
  prototype: RequestQueueLike & { scheduleCheckPendingRequests: Schedule };
} {
  return require("kafkajs/src/network/requestQueue/index.js");
}

/** Same as kafkajs while requests wait (at the end of a throttle, else in 10 ms); nothing when none do. */
const quietSchedule: Schedule = function (this: RequestQueueLike) {
  // A fulfilled request, a timed-out one and every push check the queue anyway.
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const wait = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, wait > 0 ? wait : 10);
};

/** Arms the pending-request timer only while requests wait (patch 2), or restores kafkajs's (`false`). */
export function useQuietRequestQueue(on: boolean): boolean {
  let RQ;
  try {
    RQ = kafkajsRequestQueue();
  } catch {
    return false;
  }
  stockSchedule ??= RQ.prototype.scheduleCheckPendingRequests;
  const was = RQ.prototype.scheduleCheckPendingRequests === quietSchedule;
  RQ.prototype.scheduleCheckPendingRequests = on ? quietSchedule : stockSchedule;
  return was;
}

/** Switches kafkajs's Encoder between the fast varint writers (`true`) and its own (`false`). */
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
