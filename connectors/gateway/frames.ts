/**
 * Serialization of live frames ({@link LiveEvent}). A record is serialized once into a `body` (the frame
 * JSON without its cursor); a frame is `{"cursor":"<c>",` + body, so the same body serves every client and
 * every resume, and a live frame's text and SSE bytes are built once for all its clients.
 */
import type { ConsumedRecord } from "../../pipeline/broker/types.ts";
import { decode } from "../../pipeline/serde.ts";
import type { LiveEvent } from "./plugin.ts";

/** The pseudo-topic of the gateway's own control frames (`snapshot-end`, `resync`). */
export const CONTROL_TOPIC = "~gateway";

const enc = new TextEncoder();

/** A frame ready to send: built once, shared by all clients that get it. */
export class Frame {
  readonly cursor: string;
  readonly text: string;
  #sse: Uint8Array | null = null;

  constructor(cursor: string, body: string) {
    this.cursor = cursor;
    this.text = `{"cursor":"${cursor}",${body}`;
  }

  /** The SSE wire form (`id:` = cursor, one `data:` line), encoded on first use. */
  sse(): Uint8Array {
    return this.#sse ??= enc.encode(`id: ${this.cursor}\ndata: ${this.text}\n\n`);
  }
}

/** `value.type` when the value is an object with a string `type`, else the topic name. */
export function eventType(topic: string, value: unknown): string {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const t = (value as { type?: unknown }).type;
    if (typeof t === "string") return t;
  }
  return topic;
}

/** The frame body of an event (everything but the cursor). JSON.stringify never emits raw newlines. */
export function makeBody(e: Omit<LiveEvent, "cursor">): string {
  const obj: Omit<LiveEvent, "cursor"> = { topic: e.topic, key: e.key, type: e.type, data: e.data, ts: e.ts };
  if (e.snapshot) obj.snapshot = true;
  return JSON.stringify(obj).slice(1);
}

/** The snapshot variant of a live body. */
export function snapshotBody(body: string): string {
  return `${body.slice(0, -1)},"snapshot":true}`;
}

/** The body of a control frame. */
export function controlBody(type: string, data: unknown): string {
  return makeBody({ topic: CONTROL_TOPIC, key: null, type, data, ts: new Date().toISOString() });
}

/** A decoded record: its value and frame body, or why it could not be decoded. */
export type Decoded = { ok: true; value: unknown; body: string } | { ok: false; error: unknown };

/** Rewrites a decoded value before anyone sees it (plugins' `redactTopics`); returns it unchanged if not. */
export type Redact = (topic: string, value: unknown) => unknown;

/**
 * Decodes (and validates, via `schemas/`) a broker record, applies `redact` to its value (views, snapshot,
 * live and replayed frames all come from here) and builds its frame body.
 */
export function decodeRecord(r: ConsumedRecord, redact?: Redact): Decoded {
  let value: unknown;
  try {
    value = decode(r.topic, r.value);
  } catch (error) {
    return { ok: false, error };
  }
  if (redact && value !== null) value = redact(r.topic, value);
  const body = makeBody({
    topic: r.topic,
    key: r.key,
    type: eventType(r.topic, value),
    data: value,
    ts: new Date(r.timestamp).toISOString(),
  });
  return { ok: true, value, body };
}
