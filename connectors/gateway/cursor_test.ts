import assert from "node:assert/strict";
import { decodeCursor, encodeCursor, MAX_CURSOR_CHARS, pick } from "./cursor.ts";

Deno.test("encodeCursor()/decodeCursor() round-trip and are URL-safe", () => {
  const c = {
    p: { "lz.sync.status.v1": [0, 17, 9_007_199_254_740_991], "lz.x": [3] },
    s: 1 as const,
    g: "ab12",
  };
  const text = encodeCursor(c);
  assert.match(text, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeCursor(text), c);
  assert.deepEqual(decodeCursor(encodeCursor({ p: {} })), { p: {} });
});

Deno.test("decodeCursor() rejects bad cursors with a reason", () => {
  const b64 = (o: unknown) =>
    btoa(JSON.stringify(o)).replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_");
  const cases: [string, RegExp][] = [
    ["not base64!", /not base64url/],
    ["AAAA", /not base64url-encoded JSON/],
    [b64([1]), /expected an object/],
    [b64({ x: 1 }), /field p/],
    [b64({ p: { t: "3" } }), /array of offsets/],
    [b64({ p: { t: [1.5] } }), /not an offset/],
    [b64({ p: { t: [-1] } }), /not an offset/],
    [b64({ p: {}, s: 2 }), /field s/],
    [b64({ p: {}, g: 5 }), /field g/],
    ["A".repeat(MAX_CURSOR_CHARS + 1), /longer than/],
  ];
  for (const [text, reason] of cases) {
    assert.throws(
      () => decodeCursor(text),
      (e: Error) => e.name === "ValidationError" && reason.test(e.message),
      text,
    );
  }
});

Deno.test("pick() copies only the given topics", () => {
  const p = { a: [1], b: [2] };
  const out = pick(p, ["a", "c"]);
  assert.deepEqual(out, { a: [1] });
  out.a[0] = 9;
  assert.equal(p.a[0], 1);
});
