import assert from "node:assert/strict";
import { base64ToBytes, bytesToBase64 } from "./base64.ts";

Deno.test("bytesToBase64() matches btoa and round-trips every byte value, also past one chunk", () => {
  assert.equal(bytesToBase64(new TextEncoder().encode("{not json")), btoa("{not json"));
  assert.equal(bytesToBase64(new Uint8Array()), "");
  const all = Uint8Array.from({ length: 0x8000 * 2 + 3 }, (_, i) => (i * 7) % 256);
  assert.deepEqual(base64ToBytes(bytesToBase64(all)), all);
});

Deno.test("base64ToBytes() rejects text that is not base64", () => {
  assert.throws(() => base64ToBytes("not base64!"));
  assert.deepEqual(base64ToBytes("AAE"), new Uint8Array([0, 1]));
});
