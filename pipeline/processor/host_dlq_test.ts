import assert from "node:assert/strict";
import { RECORD_TOO_LARGE } from "../broker/types.ts";
import { decode } from "../serde.ts";
import { oversizeDlqRecord } from "./host_dlq.ts";
import { DLQ_TOPIC, type DlqRecord } from "../../schemas/dlq.ts";

Deno.test("oversizeDlqRecord says what was not written and keeps the key and headers, not the bytes", () => {
  const rec = oversizeDlqRecord(
    "app-x",
    2,
    "lz.out.v1",
    { key: "k/1", value: new Uint8Array(2048), headers: { trace: "t-1" } },
    new Error("record too large for max.message.bytes=1024"),
    "2026-12-04T00:00:00.000Z",
  );
  assert.equal(rec.key, "lz.out.v1/k/1");
  const v = decode<DlqRecord>(DLQ_TOPIC.name, rec.value)!;
  assert.deepEqual(v, {
    error: 'a 2048-byte record of app-x (task 2) for lz.out.v1 (key "k/1") was not written: ' +
      "record too large for max.message.bytes=1024",
    error_code: RECORD_TOO_LARGE,
    stage: "app-x",
    attempts: 1,
    source: { topic: "lz.out.v1", partition: -1, offset: -1 },
    original: { key: "k/1", value_base64: null, headers: { trace: "t-1" } },
    failed_at: "2026-12-04T00:00:00.000Z",
  });
  const keyless = oversizeDlqRecord(
    "app-x",
    0,
    "lz.out.v1",
    { key: null, value: null },
    new Error("x"),
    "2026-12-04T00:00:00.000Z",
  );
  assert.equal(keyless.key, "lz.out.v1/");
});
