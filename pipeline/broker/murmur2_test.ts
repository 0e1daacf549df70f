import assert from "node:assert/strict";
import { Partitioners } from "kafkajs";
import { Buffer } from "node:buffer";
import { DefaultPartitioner, murmur2, murmur2String, partitionForKey, toPositive } from "./murmur2.ts";

/** kafkajs's own default partitioner, the reference our partition numbers must equal. */
const kafkajs = Partitioners.DefaultPartitioner();
function kafkajsPartition(key: string, numPartitions: number): number {
  const partitionMetadata = Array.from({ length: numPartitions }, (_, i) => ({ partitionId: i, leader: 0 }));
  return kafkajs({
    topic: "t",
    partitionMetadata: partitionMetadata as never,
    message: { key: Buffer.from(key, "utf8"), value: null },
  });
}

const KEYS = [
  "",
  "a",
  "ab",
  "abc",
  "abcd",
  "abcde",
  "key-1",
  "project/my-proj-01",
  "fabric:prod/vpc/vpc-01",
  "ünïcødé-ключ-键-🔑",
  "x".repeat(1000),
  "//projects/123/zones/europe-west1-b/instances/vm-17",
];

Deno.test("murmur2() matches published Kafka vectors (Java client test values)", () => {
  // From the Java client's UtilsTest.testMurmur2: "21" -> -973932308, "foobar" -> -790332482.
  const enc = new TextEncoder();
  assert.equal(murmur2(enc.encode("21")), -973932308);
  assert.equal(murmur2(enc.encode("foobar")), -790332482);
  assert.equal(murmur2(enc.encode("a-little-bit-long-string")), -985981536);
  assert.equal(murmur2(enc.encode("a-little-bit-longer-string")), -1486304829);
  assert.equal(murmur2(enc.encode("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")), -58897971);
  assert.equal(murmur2(new Uint8Array([97, 98, 99])), 479470107);
});

Deno.test("partitionForKey() equals kafkajs's DefaultPartitioner for fixed and random keys", () => {
  for (const n of [1, 2, 3, 4, 6, 8, 12, 50, 100]) {
    for (const key of KEYS) assert.equal(partitionForKey(key, n), kafkajsPartition(key, n), `${key} / ${n}`);
  }
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff);
  for (let i = 0; i < 2000; i++) {
    const len = rnd() % 40;
    let key = "";
    for (let j = 0; j < len; j++) {
      key += String.fromCharCode(rnd() % 3 === 0 ? 0x400 + (rnd() % 200) : 32 + (rnd() % 90));
    }
    const n = 1 + (rnd() % 16);
    assert.equal(partitionForKey(key, n), kafkajsPartition(key, n), `${JSON.stringify(key)} / ${n}`);
  }
});

Deno.test("murmur2String() hashes the UTF-8 bytes, also for keys longer than the scratch buffer", () => {
  const enc = new TextEncoder();
  for (const key of [...KEYS, "é".repeat(5000)]) assert.equal(murmur2String(key), murmur2(enc.encode(key)));
  assert.equal(toPositive(-1), 0x7fffffff);
  assert.equal(toPositive(-2147483648), 0);
});

Deno.test("DefaultPartitioner round-robins null keys and hashes keyed records", () => {
  const p = new DefaultPartitioner();
  const seen = [0, 1, 2, 3].map(() => p.partition("t", null, 4));
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3]);
  assert.equal(p.partition("t", "abc", 4), partitionForKey("abc", 4));
  assert.throws(() => partitionForKey("a", 0), RangeError);
});
