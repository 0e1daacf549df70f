import assert from "node:assert/strict";
import { canonicalJson, stateDigest } from "./digest.ts";

Deno.test("stateDigest() ignores row order and object key order but not values, keys or partitions", () => {
  const a = [
    { store: "s", partition: 0, key: "a", value: { x: 1, y: [1, { b: 2, a: 1 }] } },
    { store: "s", partition: 1, key: "b", value: 2 },
    { store: "t", partition: 0, key: "a", value: "v" },
  ];
  const b = [
    { store: "t", partition: 0, key: "a", value: "v" },
    { store: "s", partition: 1, key: "b", value: 2 },
    { store: "s", partition: 0, key: "a", value: { y: [1, { a: 1, b: 2 }], x: 1 } },
  ];
  assert.equal(stateDigest(a), stateDigest(b));
  assert.match(stateDigest(a), /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(stateDigest(a), stateDigest([...a.slice(0, 2), { ...a[2], value: "w" }]));
  assert.notEqual(stateDigest(a), stateDigest([{ ...a[0], partition: 2 }, ...a.slice(1)]));
  assert.notEqual(stateDigest(a), stateDigest(a.slice(1)));
  assert.equal(canonicalJson({ b: 1, a: [true, null] }), '{"a":[true,null],"b":1}');
});
