import assert from "node:assert/strict";
import { type Entry, Rings } from "./ring.ts";

let seq = 0;
const e = (topic: string, partition: number, offset: number, body = "x"): Entry => ({
  seq: seq++,
  topic,
  partition,
  offset,
  key: null,
  body,
});

Deno.test("Rings keep the newest entries per topic and report what they cover per partition", () => {
  const r = new Rings({ maxCount: 3, maxBytes: 1_000 });
  r.addTopic("a", [10, 0]);
  r.addTopic("b", [0]);
  assert.equal(r.coveredFrom("a", 0), 10, "covers from the start offset");
  r.push(e("a", 0, 10));
  r.push(e("b", 0, 0));
  r.push(e("a", 1, 0));
  r.push(e("a", 0, 11));
  r.push(e("a", 0, 12)); // evicts a:0@10
  assert.equal(r.coveredFrom("a", 0), 11);
  assert.equal(r.coveredFrom("a", 1), 0);
  r.push(e("a", 0, 13)); // evicts a:1@0
  assert.equal(r.coveredFrom("a", 1), 1);
  assert.equal(r.coveredFrom("b", 0), 0, "a busy topic never evicts a quiet one");
  assert.equal(r.coveredFrom("nope", 0), Number.MAX_SAFE_INTEGER);
  const got = r.collect({ a: [12, 0], b: [0] });
  assert.deepEqual(got.map((x) => `${x.topic}:${x.partition}@${x.offset}`), ["b:0@0", "a:0@12", "a:0@13"]);
  assert.deepEqual(r.stats(), { entries: 4, bytes: 4 });
});

Deno.test("Rings also bound bytes, keeping at least the newest entry", () => {
  const r = new Rings({ maxCount: 100, maxBytes: 10 });
  r.addTopic("a", [0]);
  r.push(e("a", 0, 0, "12345"));
  r.push(e("a", 0, 1, "12345"));
  r.push(e("a", 0, 2, "12345"));
  assert.equal(r.coveredFrom("a", 0), 1);
  r.push(e("a", 0, 3, "x".repeat(50)));
  assert.deepEqual(r.stats(), { entries: 1, bytes: 50 });
  assert.equal(r.coveredFrom("a", 0), 3);
});

Deno.test("Rings compact their backing array without losing order", () => {
  const r = new Rings({ maxCount: 10, maxBytes: 1e9 });
  r.addTopic("a", [0]);
  for (let i = 0; i < 5_000; i++) r.push(e("a", 0, i));
  assert.deepEqual(r.collect({ a: [4_990] }).map((x) => x.offset), [
    4_990,
    4_991,
    4_992,
    4_993,
    4_994,
    4_995,
    4_996,
    4_997,
    4_998,
    4_999,
  ]);
  assert.equal(r.coveredFrom("a", 0), 4_990);
});
