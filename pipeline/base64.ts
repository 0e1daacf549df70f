/**
 * Standard base64 of raw bytes, for binary payloads carried in JSON (DLQ `value_base64`, git blob
 * contents, gateway cursors). Works for any size: bytes are turned into a binary string in chunks, so
 * large blobs do not overflow the argument list of `String.fromCharCode`.
 */

/** Base64 (with padding) of `bytes`. */
export function bytesToBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** The bytes of base64 text (padding optional); throws a `DOMException` when `b64` is not base64. */
export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}
