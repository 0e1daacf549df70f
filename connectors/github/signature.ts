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

/** The digest given in a well-formed `X-Hub-Signature-256` header, or the reason it cannot be checked. */
export function parseSignatureHeader(
  secrets: readonly string[],
  header: string | null,
): Buffer | Exclude<SignatureCheck, "ok" | "mismatch"> {
  if (header === null || header === "") return "missing";
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return "malformed";
  if (secrets.length === 0) return "no_secret";
  return Buffer.from(m[1], "hex");
}

/**
 * HMAC-SHA256 of a body fed chunk by chunk (one HMAC per accepted secret), so a delivery is verified as it
 * streams in; {@link SignatureStream.check} compares every digest in constant time.
 */
export class SignatureStream {
  readonly #hmacs: ReturnType<typeof createHmac>[];
  constructor(secrets: readonly string[], readonly given: Buffer) {
    this.#hmacs = secrets.map((s) => createHmac("sha256", s));
  }

  /** Feeds the next chunk of the raw body. */
  update(chunk: Uint8Array): void {
    for (const h of this.#hmacs) h.update(chunk);
  }

  /** "ok" when any secret's digest matches the header. */
  check(): "ok" | "mismatch" {
    let ok = false;
    for (const h of this.#hmacs) ok = timingSafeEqual(h.digest(), this.given) || ok;
    return ok ? "ok" : "mismatch";
  }
}

/** Verifies a `X-Hub-Signature-256` header against the raw body with any of `secrets`. */
export function verifySignature(
  secrets: readonly string[],
  body: Uint8Array,
  header: string | null,
): SignatureCheck {
  const given = parseSignatureHeader(secrets, header);
  if (typeof given === "string") return given;
  const stream = new SignatureStream(secrets, given);
  stream.update(body);
  return stream.check();
}
