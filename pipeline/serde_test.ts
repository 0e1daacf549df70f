import assert from "node:assert/strict";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import {
  compileChecker,
  decode,
  decodeJson,
  encode,
  encodeJson,
  encodeJsonAll,
  encodeTextsAll,
  utf8,
} from "./serde.ts";
import { LzError, ValidationError } from "./errors.ts";
import { DLQ_TOPIC } from "../schemas/dlq.ts";
import { FabricObject } from "../schemas/fgd.ts";

const dlq = {
  error: "boom",
  error_code: "PROCESS",
  stage: "test",
  attempts: 1,
  source: { topic: "t", partition: 0, offset: 3 },
  original: { key: null, value_base64: null, headers: {} },
  failed_at: "2026-11-22T05:00:00.000Z",
};

Deno.test("encode() validates against the topic's declaration and round-trips through decode()", () => {
  const bytes = encode(DLQ_TOPIC.name, dlq);
  assert.deepEqual(decode(DLQ_TOPIC.name, bytes), dlq);
  assert.equal(encode(DLQ_TOPIC.name, null), null, "tombstones pass through");
});

Deno.test("encode() names the bad field's path, including string formats", () => {
  assert.throws(() => encode(DLQ_TOPIC.name, { ...dlq, failed_at: "yesterday" }), (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.ok(err.issues.some((i) => i.path === "/failed_at"));
    return true;
  });
  assert.throws(
    () => encode(DLQ_TOPIC.name, { ...dlq, extra: 1 }),
    ValidationError,
    "unknown fields rejected",
  );
});

Deno.test("decode() turns malformed bytes into a DECODE error, not a crash", () => {
  assert.throws(() => decode(DLQ_TOPIC.name, new TextEncoder().encode("{not json")), (err: unknown) => {
    assert.ok(err instanceof LzError);
    assert.equal(err.code, "DECODE");
    return true;
  });
  assert.throws(() => decode(DLQ_TOPIC.name, new Uint8Array([0xff, 0xfe])), /not valid UTF-8 JSON/);
});

Deno.test("encodeJsonAll: the same bytes as encodeJson per value, ASCII and not (fallback past the buffer)", () => {
  const values = [
    { a: 1, s: "plain" },
    { s: "ünïcødé — 日本語 🚀" },
    "x",
    [1, 2, { k: null }],
    { s: "é".repeat(50) },
    { tail: "ascii after the overflow" },
  ];
  const got = encodeJsonAll(values);
  assert.equal(got.length, values.length);
  for (let i = 0; i < values.length; i++) {
    assert.deepEqual([...got[i]], [...encodeJson(values[i])], `value ${i}`);
  }
  assert.deepEqual(encodeJsonAll([]), []);
  // all ASCII: one encode of the joined texts, cut at each text's length
  const ascii = [{ a: 1, s: "plain" }, "", "x", [1, 2, { k: null }], { s: '\u0001"\\' }, { lone: "\ud800" }];
  const all = encodeJsonAll(ascii);
  for (let i = 0; i < ascii.length; i++) {
    assert.deepEqual([...all[i]], [...encodeJson(ascii[i])], `ascii value ${i}`);
  }
});

Deno.test("encodeTextsAll: long and short texts, ASCII and not, in any mix: the bytes of each text's own encode", () => {
  const enc = new TextEncoder();
  const long = (c: string, n = 600) => JSON.stringify({ s: c.repeat(n) });
  const mixes: string[][] = [
    [long("a"), long("b"), long("c")],
    ["{}", long("a"), '"x"', '"y"', long("b", 512), "1", "[]"],
    [long("a"), long("é"), '"ascii"', long("日本"), '"ü"', "2", long("z")],
    ['"ü"', '"a"', long("🚀", 300), '"after"', long("tail")],
    [long("é", 2000), long("a"), '"short after the overflow"'],
  ];
  for (const [m, texts] of mixes.entries()) {
    const got = encodeTextsAll(texts);
    assert.equal(got.length, texts.length);
    for (let i = 0; i < texts.length; i++) {
      assert.deepEqual([...got[i]], [...enc.encode(texts[i])], `mix ${m}, text ${i}`);
    }
  }
  assert.deepEqual(encodeTextsAll([]), []);
});

Deno.test("utf8: strict UTF-8 like a fatal TextDecoder (BOM dropped, U+FFFD kept, invalid bytes throw)", () => {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  const te = new TextEncoder();
  for (const text of ["", "plain", "ünïcødé — 日本語 🚀", "a \uFFFD replacement char", '\uFEFF{"bom":1}']) {
    const bytes = te.encode(text);
    assert.equal(utf8(bytes), fatal.decode(bytes), JSON.stringify(text));
  }
  assert.deepEqual(decodeJson(te.encode('\uFEFF{"bom":1}')), { bom: 1 });
  // A view into a larger buffer reads only its own bytes.
  const big = te.encode("xx[1,2]yy");
  assert.deepEqual(decodeJson(big.subarray(2, 7)), [1, 2]);
  // Invalid: a lone continuation byte, an overlong encoding, a surrogate, a truncated sequence.
  for (const bad of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x22, 0xe6, 0x97, 0x22]]) {
    assert.throws(() => utf8(new Uint8Array(bad)), TypeError, JSON.stringify(bad));
    assert.throws(
      () => decode(DLQ_TOPIC.name, new Uint8Array(bad)),
      (e) => e instanceof LzError && e.code === "DECODE",
    );
  }
});

Deno.test("a date-time that matched before passes again, and a bad one after it still fails", () => {
  encode(DLQ_TOPIC.name, dlq); // remembers dlq.failed_at
  encode(DLQ_TOPIC.name, dlq);
  for (const bad of ["2026-11-22T05:00:00.000", "2026-11-22 05:00:00Z", "", "2026-11-22T05:00:00.000Zx"]) {
    assert.throws(() => encode(DLQ_TOPIC.name, { ...dlq, failed_at: bad }), ValidationError, bad);
    encode(DLQ_TOPIC.name, dlq);
  }
  encode(DLQ_TOPIC.name, { ...dlq, failed_at: "2026-11-22T05:00:01+02:00" });
  assert.throws(
    () => encode(DLQ_TOPIC.name, { ...dlq, failed_at: "2026-11-22T05:00:01+02:0" }),
    ValidationError,
  );
});

Deno.test("lz.assets.v1: resource data and org policies are JSON objects of any members (or null data), never arrays or scalars", () => {
  const asset = (data: unknown, extra: Record<string, unknown> = {}) => ({
    type: "resource_created",
    name: "//storage.googleapis.com/b",
    asset: {
      name: "//storage.googleapis.com/b",
      asset_type: "storage.googleapis.com/Bucket",
      project: null,
      project_number: null,
      location: null,
      update_time: null,
      ancestors: [],
      resource_parent: null,
      data,
      ...extra,
    },
    source: "api",
    snapshot_id: null,
    message_id: null,
    changed_at: "2024-05-01T10:00:00.000Z",
    observed_at: "2024-05-01T10:00:00.000Z",
  });
  const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  for (const data of [{}, { name: "b", "odd key ü": [1, { x: null }], labels: { a: "b" } }, null]) {
    assert.deepEqual(decode("lz.assets.v1", bytes(asset(data))), asset(data));
  }
  assert.ok(decode("lz.assets.v1", bytes(asset({}, { org_policy: [{ constraint: "c" }, {}] }))));
  for (const data of [[], [{}], "x", 1, true]) {
    assert.throws(() => decode("lz.assets.v1", bytes(asset(data))), /asset\/data/);
  }
  assert.throws(() => decode("lz.assets.v1", bytes(asset({}, { org_policy: [[]] }))), /org_policy/);
  assert.throws(() => decode("lz.assets.v1", bytes(asset({}, { org_policy: ["x"] }))), /org_policy/);
  const { data: _, ...noData } = asset({}).asset;
  assert.throws(() => decode("lz.assets.v1", bytes({ ...asset({}), asset: noData })), /asset\/data/);
});

Deno.test("compileChecker: the same verdict as TypeBox's compiled check, without the key loop that cannot fail", () => {
  const object = { apiVersion: "v1", kind: "VPC", metadata: { name: "v1" }, spec: { a: [1, { b: null }] } };
  const record = (desired: unknown, extra: Record<string, unknown> = {}) => ({
    fabric: "f",
    apiVersion: "v1",
    kind: "VPC",
    plural: "vpcs",
    name: "v1",
    namespace: null,
    path: "managed/vpcs/v1.yaml",
    desired,
    draft: null,
    conflict: null,
    actual: null,
    drift: "unknown",
    drift_fields: [],
    updated_at: "2026-12-04T22:00:00.000Z",
    ...extra,
  });
  const desired = (o: unknown) => ({
    object: o,
    hash: "h",
    source: "raw/a.yaml",
    document: 0,
    commit: null,
    warnings: [],
  });
  const objects: unknown[] = [
    object,
    {},
    { "a\nb": 1, "": 2, "odd key ü": [] },
    [],
    [{}],
    null,
    "x",
    1,
    true,
    new Date(0),
    new Uint8Array(1),
  ];
  const values: unknown[] = [
    ...objects.map((o) => record(desired(o))),
    ...objects.map((o) =>
      record(null, { actual: { object: o, hash: "h", observed_at: "2026-12-04T22:00:00.000Z" } })
    ),
    record(null),
    record(desired(object), { extra: 1 }),
    record(desired(object), { updated_at: "yesterday" }),
    { ...record(null), drift_fields: [1] },
    null,
    [],
  ];
  const typebox = TypeCompiler.Compile(FabricObject);
  const lean = compileChecker(FabricObject);
  assert.ok(TypeCompiler.Code(FabricObject).includes("Object.entries("), "TypeBox's code has the key loop");
  assert.ok(!lean.Code().includes("Object.entries("), "the lean code has none");
  let passed = 0;
  for (const v of values) {
    assert.equal(lean.Check(v), typebox.Check(v), JSON.stringify(v));
    if (lean.Check(v)) passed++;
  }
  assert.equal(passed, 7); // the three objects as desired and as actual, and no desired state at all
  // schemas without such a loop are compiled by TypeBox as they are
  assert.equal(compileChecker(DLQ_TOPIC.schema).Code(), TypeCompiler.Code(DLQ_TOPIC.schema));
  assert.ok(compileChecker(DLQ_TOPIC.schema).Check(dlq));
});
