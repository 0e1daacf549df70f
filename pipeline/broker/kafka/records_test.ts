import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { KafkaMessage } from "kafkajs";
import { toBytes, toHeaders, toRecord } from "./records.ts";

Deno.test("toRecord() converts offsets, timestamps, keys and header values to numbers and strings", () => {
  const backing = Buffer.from("xxhéllo");
  const m = {
    offset: "42",
    timestamp: "1700000000123",
    key: Buffer.from("ключ"),
    value: backing.subarray(2),
    headers: { "content-type": Buffer.from("json"), "x-ü": Buffer.from("ä ✓"), plain: "s" },
    attributes: 0,
    size: 0,
  } as unknown as KafkaMessage;
  const r = toRecord("t", 3, m);
  assert.equal(r.topic, "t");
  assert.equal(r.partition, 3);
  assert.equal(r.offset, 42);
  assert.equal(r.timestamp, 1700000000123);
  assert.equal(r.key, "ключ");
  assert.equal(new TextDecoder().decode(r.value!), "héllo");
  assert.equal(Object.getPrototypeOf(r.value), Uint8Array.prototype, "a plain Uint8Array, not a Buffer");
  assert.equal(r.value!.buffer, backing.buffer, "a view, not a copy");
  assert.deepEqual(r.headers, { "content-type": "json", "x-ü": "ä ✓", plain: "s" });
});

Deno.test("toRecord() keeps null keys and tombstones, and empty values empty", () => {
  const base = { offset: "0", timestamp: "1", attributes: 0, size: 0, headers: {} };
  const tomb = toRecord("t", 0, { ...base, key: null, value: null } as unknown as KafkaMessage);
  assert.equal(tomb.key, null);
  assert.equal(tomb.value, null);
  const empty = toRecord(
    "t",
    0,
    { ...base, key: Buffer.alloc(0), value: Buffer.alloc(0) } as unknown as KafkaMessage,
  );
  assert.equal(empty.key, "");
  assert.ok(empty.value !== null && empty.value.length === 0);
  assert.equal(toBytes(undefined), null);
});

Deno.test("toHeaders() takes the last value of a repeated header and drops undefined ones", () => {
  assert.deepEqual(toHeaders({ a: [Buffer.from("1"), Buffer.from("2")], b: undefined }), { a: "2" });
  assert.deepEqual(toHeaders(undefined), {});
});
