import assert from "node:assert/strict";
import { signPayload, verifySignature } from "./signature.ts";

Deno.test("signPayload matches GitHub's documented example", () => {
  // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody", payload "Hello, World!"
  assert.equal(
    signPayload("It's a Secret to Everybody", "Hello, World!"),
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
  );
});

Deno.test("verifySignature accepts the current or previous secret and rejects the rest", () => {
  const body = new TextEncoder().encode('{"zen":"x"}');
  const sig = signPayload("old", body);
  assert.equal(verifySignature(["new", "old"], body, sig), "ok");
  assert.equal(verifySignature(["new"], body, sig), "mismatch");
  assert.equal(verifySignature(["new"], body, null), "missing");
  assert.equal(verifySignature(["new"], body, "sha1=abc"), "malformed");
  assert.equal(
    verifySignature(["old"], body, sig.toUpperCase().replace("SHA256", "sha256")),
    "ok",
    "hex case does not matter",
  );
  assert.equal(verifySignature([], body, sig), "no_secret");
  const tampered = new TextEncoder().encode('{"zen":"y"}');
  assert.equal(verifySignature(["old"], tampered, sig), "mismatch");
});
