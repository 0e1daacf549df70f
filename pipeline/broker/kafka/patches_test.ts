import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import "kafkajs";
import {
  installKafkajsPatches,
  kafkajsEncoder,
  kafkajsRequestQueue,
  originalVarintWriters,
  patchFallbackWarnings,
  useFastVarints,
  useQuietRequestQueue,
} from "./patches.ts";

type Enc = { buffer: Buffer; writeUVarInt(v: number): Enc; writeVarLong(v: unknown): Enc };

function encodeWith(which: "stock" | "fast", write: (e: Enc) => void): Buffer {
  const was = useFastVarints(which === "fast");
  try {
    const E = kafkajsEncoder() as unknown as new () => Enc;
    const e = new E();
    write(e);
    return e.buffer;
  } finally {
    useFastVarints(was);
  }
}

const uvarints = [
  0,
  1,
  2,
  63,
  64,
  127,
  128,
  255,
  256,
  300,
  16_383,
  16_384,
  2 ** 21 - 1,
  2 ** 21,
  2 ** 28 - 1,
  2 ** 28,
];
const signed = [0, 1, -1, 63, -64, 64, -65, 1_000_000, -1_000_000, 2 ** 31 - 1, -(2 ** 31)];
const longs = [0, 1, -1, 5, 127, 128, -129, 1_700_000_000_123, -1_700_000_000_123, "9007199254740993", "-42"];

Deno.test("the fast varint writers produce exactly kafkajs's bytes", () => {
  const rnd = Array.from({ length: 2_000 }, () => (Math.random() * 2 ** 32) | 0);
  for (const v of [...uvarints, ...rnd]) {
    assert.deepEqual(
      encodeWith("fast", (e) => e.writeUVarInt(v)),
      encodeWith("stock", (e) => e.writeUVarInt(v)),
      `writeUVarInt(${v})`,
    );
  }
  for (const v of [...signed, ...rnd]) {
    const f = (e: Enc) => (e as unknown as { writeVarInt(v: number): Enc }).writeVarInt(v);
    assert.deepEqual(encodeWith("fast", f), encodeWith("stock", f), `writeVarInt(${v})`);
  }
  for (const v of [...longs, ...rnd.map((x) => x * 4096)]) {
    assert.deepEqual(
      encodeWith("fast", (e) => e.writeVarLong(v)),
      encodeWith("stock", (e) => e.writeVarLong(v)),
      `writeVarLong(${v})`,
    );
  }
});

Deno.test("the fast writers grow the buffer like kafkajs (many varints in one encoder)", () => {
  const write = (e: Enc) => {
    for (let i = 0; i < 5_000; i++) e.writeUVarInt(i * 7919).writeVarLong(i * 1_000_003);
  };
  assert.deepEqual(encodeWith("fast", write), encodeWith("stock", write));
});

Deno.test("the patch reaches the Encoder module kafkajs itself uses, and can be switched off again", () => {
  const require = createRequire(import.meta.url);
  const real = require(
    Deno.realPathSync(new URL("../../../node_modules/kafkajs/src/protocol/encoder.js", import.meta.url)),
  );
  assert.equal(real, kafkajsEncoder());
  const was = useFastVarints(true);
  try {
    assert.notEqual(real.prototype.writeUVarInt, originalVarintWriters().writeUVarInt);
    useFastVarints(false);
    assert.equal(real.prototype.writeUVarInt, originalVarintWriters().writeUVarInt);
  } finally {
    useFastVarints(was);
  }
});

Deno.test("the quiet request queue arms its timer only while requests wait", () => {
  const was = useQuietRequestQueue(true);
  try {
    const schedule = kafkajsRequestQueue().prototype.scheduleCheckPendingRequests;
    let checks = 0;
    const idle = {
      pending: [] as unknown[],
      throttledUntil: -1,
      throttleCheckTimeoutId: null,
      checkPendingRequests() {},
    };
    schedule.call(idle);
    assert.equal(idle.throttleCheckTimeoutId, null, "nothing waits: no timer (kafkajs arms a 1 ms one)");
    const waiting = {
      pending: [{}] as unknown[],
      throttledUntil: Date.now() + 60_000,
      throttleCheckTimeoutId: null as ReturnType<typeof setTimeout> | null,
      checkPendingRequests: () => void checks++,
    };
    schedule.call(waiting);
    assert.notEqual(
      waiting.throttleCheckTimeoutId,
      null,
      "a waiting request gets a timer for the throttle's end",
    );
    clearTimeout(waiting.throttleCheckTimeoutId!);
    assert.equal(checks, 0);
  } finally {
    useQuietRequestQueue(was);
  }
});

Deno.test("a kafkajs whose internals changed gets no patch, and each fallback is named with its cost; the real one gets both", () => {
  class OldEncoder {
    writeUVarInt() {}
    ensureAvailable() {}
    static encodeZigZag64() {}
  } // writeVarLong gone
  const changed = installKafkajsPatches({ encoder: () => OldEncoder, requestQueue: () => ({}) });
  assert.equal(changed.varints, "kafkajs changed: Encoder.prototype.writeVarLong missing");
  assert.match(changed.requestQueue!, /RequestQueue\.prototype\.scheduleCheckPendingRequests/);
  const gone = installKafkajsPatches({
    encoder: () => {
      throw new Error("Cannot find module 'kafkajs/src/protocol/encoder.js'");
    },
    requestQueue: kafkajsRequestQueue,
  });
  assert.match(gone.varints!, /cannot be loaded \(Cannot find module/);
  assert.equal(gone.requestQueue, null);
  const warnings = patchFallbackWarnings(changed);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /varint patch not installed: .*writeVarLong missing; .*kafkajs's own code/);
  assert.match(warnings[1], /request-queue patch not installed: .*wake every 1 ms/);
  assert.deepEqual(
    installKafkajsPatches(),
    { varints: null, requestQueue: null },
    "kafkajs 2.2.4: both apply",
  );
  assert.deepEqual(patchFallbackWarnings({ varints: null, requestQueue: null }), []);
});
