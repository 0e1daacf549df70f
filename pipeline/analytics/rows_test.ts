import assert from "node:assert/strict";
import type { Column } from "./columns.ts";
import { intervalChanges, isoTime, rawRow, rowOf, syncRunRow } from "./rows.ts";
import { INTERVALS, tableDef } from "./tables.ts";
import { assetRecord, syncEventRecord } from "../../connectors/duckdb/_fixtures.ts";

Deno.test("isoTime() gives Date#toISOString's text for any time, hour boundaries and alternating hours included", () => {
  const H = 3_600_000;
  const times = [0, 1, 999, 1000, 59_999, 60_000, H - 1, H, H + 1, 253_402_300_799_999, 1_796_400_000_000];
  for (let h = 490_000; h < 490_003; h++) times.push(h * H - 1, h * H, h * H + 1, h * H + 61_001);
  let seed = 7;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 5_000; i++) times.push(Math.floor(rand() * 253_402_300_800_000));
  // times far apart, then runs within one hour (the cached prefix)
  for (let i = 0; i < 2_000; i++) times.push(1_796_400_000_000 + Math.floor(rand() * 2 * H));
  for (const t of times) assert.equal(isoTime(t), new Date(t).toISOString(), String(t));
  // outside 1970-9999 and fractions: Date's own answer; NaN throws as Date does
  for (const t of [-1, -H - 5, 253_402_300_800_000, 1.5, H + 0.25, -0.5]) {
    assert.equal(isoTime(t), new Date(t).toISOString(), String(t));
  }
  assert.throws(() => isoTime(NaN), RangeError);
});

Deno.test("rowOf() reads meta columns by name, the value's properties by path, the whole value at path []", () => {
  const col = (name: string, type: Column["type"], path: string[]): Column => ({
    name,
    type,
    nullable: true,
    path,
  });
  const cols = [
    col("offset", "int", []),
    col("value", "json", []),
    col("id", "string", ["id"]),
    col("n", "float", ["n"]),
    col("deep", "string", ["a", "b"]),
    col("obj", "json", ["o"]),
  ];
  const meta = { offset: 4 };
  assert.deepEqual(rowOf(cols, meta, { id: "x", n: 2.5, a: { b: "y" }, o: [1] }), [
    4,
    '{"id":"x","n":2.5,"a":{"b":"y"},"o":[1]}',
    "x",
    2.5,
    "y",
    "[1]",
  ]);
  assert.deepEqual(rowOf(cols, meta, "text"), [4, '"text"', null, null, null, null]);
  assert.deepEqual(rowOf(cols, meta, null), [4, null, null, null, null, null]);
  assert.deepEqual(rowOf(cols, {}, { n: "not a number", a: 1 }), [
    null,
    '{"n":"not a number","a":1}',
    null,
    null,
    null,
    null,
  ]);
});

Deno.test("raw, sync_runs and interval rows carry the record times as ISO-8601 text", () => {
  const at = Date.UTC(2026, 11, 4, 21, 59, 58, 7);
  const raw = tableDef("raw_lz_sync_events_v1");
  const r = syncEventRecord(3, "s3", at);
  const row = rawRow(raw, r);
  assert.equal(row[raw.columns.findIndex((c) => c.name === "ts")], "2026-12-04T21:59:58.007Z");
  const runs = tableDef("sync_runs");
  const run = syncRunRow(runs, r);
  assert.equal(run[runs.columns.findIndex((c) => c.name === "ts")], "2026-12-04T21:59:58.007Z");
  assert.equal(run[runs.columns.findIndex((c) => c.name === "latency_seconds")], 3);
  const hist = tableDef("assets_history");
  const spec = INTERVALS.find((s) => s.table === hist.name)!;
  const ch = intervalChanges(hist, spec, [
    assetRecord(0, "k", "resource_created", at),
    assetRecord(1, "k", "resource_updated", at + 2_000),
  ]);
  const from = hist.columns.findIndex((c) => c.name === "valid_from");
  const to = hist.columns.findIndex((c) => c.name === "valid_to");
  assert.deepEqual(ch.opens.map((o) => [o[from], o[to]]), [
    ["2026-12-04T21:59:58.007Z", "2026-12-04T22:00:00.007Z"],
    ["2026-12-04T22:00:00.007Z", null],
  ]);
  assert.deepEqual(ch.closes, [{ key: "k", partition: 0, offset: 0, ts: "2026-12-04T21:59:58.007Z" }]);
});
