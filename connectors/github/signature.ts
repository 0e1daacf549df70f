/**
 * GitHub webhook signatures: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`. Verification
 * compares digests in constant time and tries every accepted secret (current and, during a rotation, the
 * previous one) without stopping at the first match, so timing reveals neither the digest nor the secret.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The header value GitHub would send for `body` signed with `secret`. */
export function signPayload(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Outcome of {@link verifySignature}. */
export type SignatureCheck = "ok" | "missing" | "malformed" | "mismatch" | "no_secret";

/** Verifies a `X-Hub-Signature-256` header against the raw body with any of `secrets`. */
export function verifySignature(
  secrets: readonly string[],
  body: Uint8Array,
  header: string | null,
): SignatureCheck {
  if (header === null || header === "") return "missing";
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return "malformed";
  if (secrets.length === 0) return "no_secret";
  const given = Buffer.from(m[1], "hex");
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac("sha256", secret).update(body).digest();
    ok = timingSafeEqual(expected, given) || ok;
  }
  return ok ? "ok" : "mismatch";
}
