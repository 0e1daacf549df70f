/**
 * Tripwires for every place lzsync reaches below kafkajs's public API (kafka/patches.ts, kafka/fetch.ts,
 * kafka/internals.ts). Each test asserts that the private shape exists and behaves as the reach-in assumes, so
 * a kafkajs upgrade that moves or changes one fails here, loudly and by name, instead of silently switching a
 * patch off or breaking a delivery guarantee at run time. Update the reach-in (or drop it) before the pin.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Kafka } from "kafkajs";
import { kafkajsEncoder, kafkajsRequestQueue, useQuietRequestQueue } from "./patches.ts";

const require = createRequire(import.meta.url);
const src = (path: string) =>
  Deno.readTextFileSync(new URL(`../../../node_modules/kafkajs/${path}`, import.meta.url));

Deno.test("kafkajs is the pinned 2.2.4 that every reach-in was written against", () => {
  const pkg = JSON.parse(src("package.json")) as { version: string };
  assert.equal(pkg.version, "2.2.4", "re-check kafka/patches.ts, kafka/fetch.ts and kafka/internals.ts");
});

Deno.test("varint patch: kafkajs's Encoder has the writers and buffer fields the fast writers replace", () => {
  const E = kafkajsEncoder() as unknown as {
    new (): { buf: Uint8Array; offset: number };
    prototype: Record<string, unknown>;
    encodeZigZag64: unknown;
  };
  for (const m of ["writeUVarInt", "writeVarLong", "writeVarInt", "ensureAvailable"]) {
    assert.equal(typeof E.prototype[m], "function", `Encoder.prototype.${m}`);
  }
  assert.equal(typeof E.encodeZigZag64, "function", "Encoder.encodeZigZag64");
  const e = new E();
  assert.ok(e.buf instanceof Uint8Array, "Encoder#buf is the byte buffer written in place");
  assert.equal(e.offset, 0, "Encoder#offset is the write position");
});

Deno.test("request-queue patch: stock kafkajs still arms a timer with nothing queued (else drop the patch)", () => {
  const was = useQuietRequestQueue(false); // kafkajs's own method back on the prototype
  try {
    const stock = kafkajsRequestQueue().prototype.scheduleCheckPendingRequests;
    assert.equal(typeof stock, "function", "RequestQueue.prototype.scheduleCheckPendingRequests");
    const idle = {
      pending: [] as unknown[],
      throttledUntil: Date.now(),
      throttleCheckTimeoutId: null as ReturnType<typeof setTimeout> | null,
      checkPendingRequests() {},
    };
    stock.call(idle);
    const armed = idle.throttleCheckTimeoutId !== null;
    if (idle.throttleCheckTimeoutId) clearTimeout(idle.throttleCheckTimeoutId);
    assert.ok(armed, "kafkajs no longer arms a timer for an empty queue: kafka/patches.ts patch 2 can go");
  } finally {
    useQuietRequestQueue(was);
  }
});

Deno.test("leader reads: the Kafka client has the private cluster factory kafka/fetch.ts calls", () => {
  const kafka = new Kafka({ brokers: ["127.0.0.1:1"], logLevel: 0 });
  const key = Object.getOwnPropertySymbols(kafka).find((s) =>
    s.description === "private:Kafka:createCluster"
  );
  assert.ok(key, "Symbol(private:Kafka:createCluster) on the Kafka instance");
  assert.equal(typeof (kafka as unknown as Record<symbol, unknown>)[key], "function");
  const Batch = require("kafkajs/src/consumer/batch.js");
  assert.equal(typeof Batch, "function", "kafkajs/src/consumer/batch.js exports the Batch class");
  const b = new Batch("t", "5", {
    partition: 0,
    highWatermark: "10",
    messages: [{ offset: "4" }, { offset: "5" }, { offset: "6" }],
  });
  assert.deepEqual(
    b.messages.map((m: { offset: string }) => m.offset),
    ["5", "6"],
    "Batch drops records below the fetched offset",
  );
});

Deno.test("rebalance hook: a consumer join calls cluster.findGroupCoordinator before JoinGroup", () => {
  const code = src("src/consumer/consumerGroup.js");
  const join = code.indexOf("async [PRIVATE.JOIN]()");
  assert.ok(join > 0, "ConsumerGroup has its private JOIN step");
  const find = code.indexOf("this.cluster.findGroupCoordinator(", join);
  const joinGroup = code.indexOf(".joinGroup(", join);
  assert.ok(find > join && joinGroup > find, "findGroupCoordinator is the first broker call of each join");
});
