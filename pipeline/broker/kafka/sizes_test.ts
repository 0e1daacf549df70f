import assert from "node:assert/strict";
import { BATCH_OVERHEAD, neverFits, recordBytes, splitByBytes } from "./sizes.ts";

type M = { partition: number; b: number; id: number };
const msgs = (partition: number, n: number, b: number, from = 0): M[] =>
  Array.from({ length: n }, (_, i) => ({ partition, b, id: from + i }));

Deno.test("recordBytes() bounds a record's size: key and header bytes as UTF-8, plus the varint overhead", () => {
  assert.equal(recordBytes({ key: null, value: null }), 40);
  assert.equal(recordBytes({ key: "é", value: new Uint8Array(100) }), 142);
  assert.equal(recordBytes({ key: "k", value: null, headers: { a: "bc" } }), 54);
  assert.ok(neverFits(1000 - BATCH_OVERHEAD + 1, 1000));
  assert.ok(!neverFits(1000 - BATCH_OVERHEAD, 1000));
});

Deno.test("splitByBytes() keeps every partition's batch within its topic's limit and the order within a topic", () => {
  const topics = [
    { topic: "a", messages: [...msgs(0, 30, 100), ...msgs(1, 5, 100, 30)] },
    { topic: "b", messages: msgs(0, 10, 10, 100) },
  ];
  const limit = (t: string) => (t === "a" ? 1000 : 100_000);
  const requests = splitByBytes(topics, (m) => m.b, limit);
  for (const r of requests) {
    const used = new Map<string, number>();
    for (const { topic, messages } of r) {
      for (const m of messages) {
        used.set(`${topic}/${m.partition}`, (used.get(`${topic}/${m.partition}`) ?? 0) + m.b);
      }
    }
    for (const [k, v] of used) assert.ok(v + BATCH_OVERHEAD <= limit(k[0]), `${k} takes ${v} bytes`);
  }
  const ids = (t: string) =>
    requests.flatMap((r) => r.filter((p) => p.topic === t).flatMap((p) => p.messages.map((m) => m.id)));
  assert.deepEqual(ids("a"), Array.from({ length: 35 }, (_, i) => i), "nothing lost, order kept");
  assert.deepEqual(ids("b"), Array.from({ length: 10 }, (_, i) => 100 + i));
  assert.equal(requests.length, 4, "9 records of 100 bytes per 1,000-byte batch");
});

Deno.test("splitByBytes() bounds the request, and a record larger than the limit still goes, alone", () => {
  const requests = splitByBytes(
    [{ topic: "t", messages: [...msgs(0, 1, 10), ...msgs(1, 1, 5000, 1), ...msgs(2, 3, 400, 2)] }],
    (m) => m.b,
    () => 1000,
    1200,
  );
  assert.deepEqual(requests.map((r) => r.flatMap((p) => p.messages.map((m) => m.id))), [[0], [1], [2, 3], [
    4,
  ]]);
  assert.deepEqual(splitByBytes([], (m: M) => m.b, () => 1), []);
});
