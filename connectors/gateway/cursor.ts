/**
 * Live-feed cursors: where a client's stream stands, per topic partition, so a reconnect resumes with no gap
 * and no duplicate — on any gateway, since broker offsets are the same everywhere.
 *
 * A cursor is base64url(JSON) of `{ p: { topic: [nextOffset per partition] }, s?: 1, g?: gatewayId }`:
 * - `p` holds, per topic, the offset of the next record not yet delivered in each partition;
 * - `s: 1` (snapshot frames) means "the snapshot was not complete": resuming re-sends a fresh snapshot of the
 *   compacted topics and continues event topics from `p`;
 * - `g` names the gateway process whose local (non-broker) topics the positions of local topics refer to.
 * A topic absent from `p` is "new" to the client: snapshot if compacted, live from now otherwise.
 */
import { ValidationError } from "../../pipeline/errors.ts";
import { base64ToBytes, bytesToBase64 } from "../../pipeline/base64.ts";

/** Per topic, the next offset to deliver in each partition (index = partition). */
export type Positions = Record<string, number[]>;

/** A decoded cursor. */
export interface Cursor {
  p: Positions;
  s?: 1;
  g?: string;
}

/** Cursors longer than this are refused (a client cannot make the gateway parse megabytes). */
export const MAX_CURSOR_CHARS = 16_384;

function toBase64Url(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

function fromBase64Url(text: string): string {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const bytes = base64ToBytes(b64 + "===".slice((b64.length + 3) % 4));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** Encodes a cursor (base64url, no padding: safe in URLs, SSE ids and close reasons). */
export function encodeCursor(c: Cursor): string {
  const obj: Cursor = { p: c.p };
  if (c.s) obj.s = 1;
  if (c.g) obj.g = c.g;
  return toBase64Url(JSON.stringify(obj));
}

/** Decodes a cursor from a client; throws a {@link ValidationError} saying what is wrong. */
export function decodeCursor(text: string): Cursor {
  const bad = (message: string) =>
    new ValidationError(`invalid cursor: ${message}; reconnect without a cursor for a fresh snapshot`, [
      { path: "cursor", message },
    ]);
  if (text.length > MAX_CURSOR_CHARS) throw bad(`longer than ${MAX_CURSOR_CHARS} characters`);
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw bad("not base64url");
  let raw: unknown;
  try {
    raw = JSON.parse(fromBase64Url(text));
  } catch {
    throw bad("not base64url-encoded JSON");
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw bad("expected an object");
  const { p, s, g } = raw as Record<string, unknown>;
  if (!p || typeof p !== "object" || Array.isArray(p)) throw bad("field p must map topics to offset arrays");
  const positions: Positions = {};
  for (const [topic, offsets] of Object.entries(p)) {
    if (!Array.isArray(offsets) || offsets.length > 10_000) {
      throw bad(`p.${topic} must be an array of offsets`);
    }
    for (const o of offsets) {
      if (!Number.isSafeInteger(o) || o < 0) {
        throw bad(`p.${topic} holds ${JSON.stringify(o)}, not an offset`);
      }
    }
    positions[topic] = offsets.slice();
  }
  if (s !== undefined && s !== 1) throw bad("field s must be 1 when present");
  if (g !== undefined && typeof g !== "string") throw bad("field g must be a string");
  const cursor: Cursor = { p: positions };
  if (s === 1) cursor.s = 1;
  if (typeof g === "string") cursor.g = g;
  return cursor;
}

/** A deep copy of positions restricted to `topics`. */
export function pick(p: Positions, topics: Iterable<string>): Positions {
  const out: Positions = {};
  for (const t of topics) if (p[t]) out[t] = p[t].slice();
  return out;
}
