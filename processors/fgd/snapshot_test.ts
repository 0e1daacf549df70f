import assert from "node:assert/strict";
import { blobId, newPlanCache, objectSlot } from "./snapshot.ts";

Deno.test("blobId is git's blob id for ASCII and non-ASCII text and for bytes", () => {
  const enc = new TextEncoder();
  // ids from `git hash-object --stdin`
  const known: [string, string][] = [
    ["", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"],
    ["hello\n", "ce013625030ba8dba906f756967f9e9ca394464a"],
    ["é ü\n", "27e1cb97dea5d240e37ffb43b2d1fbde88c78507"],
  ];
  for (const [text, id] of known) {
    assert.equal(blobId(text), id, JSON.stringify(text));
    assert.equal(blobId(enc.encode(text)), id, JSON.stringify(text));
  }
  // the text path (one native hash of header and text) and the bytes path agree on every kind of text
  for (let i = 0; i < 200; i++) {
    const text = Array.from(
      { length: i * 7 },
      (_, j) => String.fromCodePoint([65, 10, 0, 127, 233, 0x4e2d, 0x1f600][(i + j) % 7]),
    )
      .join("");
    assert.equal(blobId(text), blobId(enc.encode(text)), JSON.stringify(text));
  }
});

Deno.test("objectSlot keeps a value per object and slot, invisible to the object's keys and JSON", () => {
  const a = objectSlot<object, string>("a");
  const b = objectSlot<object, string>("a"); // same name, another slot
  const o = { x: 1 };
  assert.equal(a.get(o), undefined);
  a.set(o, "one");
  assert.equal(a.get(o), "one");
  assert.equal(b.get(o), undefined);
  b.set(o, "two");
  assert.deepEqual([a.get(o), b.get(o)], ["one", "two"]);
  assert.deepEqual(Object.keys(o), ["x"]);
  assert.equal(JSON.stringify(o), '{"x":1}');
  // a new cache starts empty for objects another cache knows
  const c1 = newPlanCache(), c2 = newPlanCache();
  const cached = { document: 0, object: { apiVersion: "v1", kind: "X", metadata: { name: "x" } } } as never;
  c1.rendered.set(cached, { source: "s", document: 0, object: {} as never, hash: "h", text: "t", id: "i" });
  assert.equal(c2.rendered.get(cached), undefined);
  assert.equal(c1.rendered.get(cached)?.text, "t");
});
