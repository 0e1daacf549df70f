import assert from "node:assert/strict";
import { fromStruct, fromValue, timestampToIso } from "./struct.ts";

Deno.test("fromStruct() converts a protobuf.js-decoded Struct with every Value kind to JSON", () => {
  const s = {
    fields: {
      name: { stringValue: "default", kind: "stringValue" },
      mtu: { numberValue: 1460, kind: "numberValue" },
      auto: { boolValue: true, kind: "boolValue" },
      gone: { nullValue: "NULL_VALUE", kind: "nullValue" },
      nested: {
        structValue: { fields: { a: { listValue: { values: [{ numberValue: 1 }, { stringValue: "x" }] } } } },
      },
    },
  };
  assert.deepEqual(fromStruct(s), {
    name: "default",
    mtu: 1460,
    auto: true,
    gone: null,
    nested: { a: [1, "x"] },
  });
});

Deno.test("fromStruct() passes plain JSON through unchanged", () => {
  const plain = { name: "fw", sourceRanges: ["0.0.0.0/0"], fields: "not a struct" };
  assert.deepEqual(fromStruct(plain), plain);
  assert.deepEqual(fromValue(undefined), null);
});

Deno.test("timestampToIso() reads Timestamp objects and RFC 3339 strings; unset is null", () => {
  assert.equal(timestampToIso({ seconds: "1700000000", nanos: 123_000_000 }), "2023-11-14T22:13:20.123Z");
  assert.equal(timestampToIso("2024-02-03T04:05:06.789012Z"), "2024-02-03T04:05:06.789Z");
  assert.equal(timestampToIso({ seconds: "0", nanos: 0 }), null);
  assert.equal(timestampToIso("yesterday"), null);
  assert.equal(timestampToIso(undefined), null);
});
