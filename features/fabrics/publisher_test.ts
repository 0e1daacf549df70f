import assert from "node:assert/strict";
import { encode } from "../../pipeline/serde.ts";
import { FGD_UNMANAGED_TOPIC } from "../../schemas/fgd.ts";
import { _encodeStamped } from "./publisher.ts";
import { unmanagedRecords } from "./records.ts";

const stamp = (v: unknown) => JSON.stringify({ ...(v as object), updated_at: "" });
const same = (topic: string, v: unknown) =>
  assert.deepEqual(_encodeStamped(topic, v, stamp(v)), encode(topic, v), JSON.stringify(v));

Deno.test("_encodeStamped gives the bytes encode gives, for records and for shapes the shortcut cannot take", () => {
  const records = unmanagedRecords("f", [
    { path: "unmanaged/a.yaml", reasonPath: "unmanaged/a.yaml.reason.txt", findings: [] },
    {
      path: 'unmanaged/ü "q".yaml',
      findings: [{
        rule: "r",
        layer: "ingest",
        severity: "error",
        doc: 1,
        path: "spec",
        message: 'a "b" \\ c',
      }],
    },
  ], "2026-12-04T01:02:03.456Z");
  for (const v of records.values()) same(FGD_UNMANAGED_TOPIC.name, v);
  const topic = "lz.test.undeclared.v1"; // no schema: any shape encodes
  for (
    const v of [
      { a: 1, updated_at: "t" },
      { updated_at: "t", a: 1 }, // not last
      { a: { updated_at: "" }, updated_at: 'x"y' },
      { a: 1, b: { c: 2, updated_at: "" } }, // only a nested one
      { a: 1, updated_at: null },
      { a: 1, updated_at: 5 },
      { a: ',"updated_at":""}' },
      { updated_at: "only" },
    ]
  ) same(topic, v);
});
