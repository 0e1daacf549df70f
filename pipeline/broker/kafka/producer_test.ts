import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { LzError } from "../../errors.ts";
import { assignOffsets, type SendJob, takeBatch, toBuffer, toMessage } from "./producer.ts";

Deno.test("toMessage() hands kafkajs a Buffer view of the value bytes (kafkajs would String() a Uint8Array)", () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 251]);
  const m = toMessage({
    key: "k",
    value: bytes.subarray(1, 4),
    headers: { a: "b" },
    timestamp: 1234,
    partition: 2,
  });
  assert.ok(Buffer.isBuffer(m.value));
  assert.deepEqual([...(m.value as Buffer)], [1, 2, 250]);
  assert.equal((m.value as Buffer).buffer, bytes.buffer, "no copy");
  assert.equal(m.key, "k");
  assert.deepEqual(m.headers, { a: "b" });
  assert.equal(m.timestamp, "1234");
  assert.equal(m.partition, 2);
  const tomb = toMessage({ key: "k", value: null });
  assert.equal(tomb.value, null);
  assert.equal("timestamp" in tomb, false);
  assert.equal("partition" in tomb, false);
  assert.equal(toBuffer(new Uint8Array(0)).length, 0);
});

Deno.test("assignOffsets() numbers each partition's records from its base offset, in input order", () => {
  const meta = assignOffsets("t", [1, 0, 1, 2, 1], [
    { partition: 0, baseOffset: "10" },
    { partition: 1, baseOffset: "5" },
    { partition: 2, baseOffset: "0" },
  ]);
  assert.deepEqual(meta, [
    { topic: "t", partition: 1, offset: 5 },
    { topic: "t", partition: 0, offset: 10 },
    { topic: "t", partition: 1, offset: 6 },
    { topic: "t", partition: 2, offset: 0 },
    { topic: "t", partition: 1, offset: 7 },
  ]);
});

Deno.test("assignOffsets() refuses to invent an offset for a partition the broker did not report", () => {
  assert.throws(
    () => assignOffsets("t", [0, 3], [{ partition: 0, baseOffset: "1" }]),
    (e: LzError) => e.code === "KAFKA_PROTOCOL",
  );
});

function job(topic: string, n: number): SendJob {
  return {
    topic,
    records: Array.from({ length: n }, () => ({ key: null, value: null })),
    resolve() {},
    reject() {},
  };
}

Deno.test("takeBatch() takes queued sends up to the record limit, at least one, in order", () => {
  const q = [job("a", 3), job("b", 4), job("a", 5), job("c", 1)];
  assert.deepEqual(takeBatch(q, 8).map((j) => j.records.length), [3, 4]);
  assert.deepEqual(takeBatch(q, 8).map((j) => j.records.length), [5, 1]);
  assert.equal(q.length, 0);
  const big = [job("a", 20), job("b", 1)];
  assert.deepEqual(takeBatch(big, 8).map((j) => j.records.length), [20], "a large send goes alone");
  assert.deepEqual(takeBatch(big, 8).map((j) => j.records.length), [1]);
});
