/**
 * Conversions from the protobuf well-known types that the Google client hands back in REST (fallback) mode:
 * `google.protobuf.Struct` / `Value` / `ListValue` decoded by protobuf.js (`{fields: {k: {stringValue: "x",
 * kind: "stringValue"}}}`) and `google.protobuf.Timestamp` (`{seconds: "1700000000", nanos: 5}`), into plain
 * JSON and RFC 3339 strings. Plain JSON passes through unchanged, so callers need not know which they got.
 */

type Obj = Record<string, unknown>;

const KINDS = ["nullValue", "numberValue", "stringValue", "boolValue", "structValue", "listValue"] as const;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** True when `v` looks like a decoded protobuf Struct (`{fields: {...}}` and nothing else but defaults). */
export function isStruct(v: unknown): v is { fields: Record<string, unknown> } {
  if (!isObj(v) || !isObj(v.fields)) return false;
  for (const k of Object.keys(v)) if (k !== "fields") return false;
  for (const f of Object.values(v.fields)) if (!isValue(f)) return false;
  return true;
}

function isValue(v: unknown): boolean {
  if (!isObj(v)) return false;
  if (typeof v.kind === "string") return (KINDS as readonly string[]).includes(v.kind);
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => (KINDS as readonly string[]).includes(k));
}

/** Converts a decoded `google.protobuf.Value` to JSON. */
export function fromValue(v: unknown): unknown {
  if (!isObj(v)) return null;
  const kind = typeof v.kind === "string" ? v.kind : KINDS.find((k) => k in v && v[k] !== undefined);
  switch (kind) {
    case "nullValue":
      return null;
    case "numberValue":
      return typeof v.numberValue === "number" ? v.numberValue : Number(v.numberValue);
    case "stringValue":
      return String(v.stringValue);
    case "boolValue":
      return Boolean(v.boolValue);
    case "structValue":
      return fromStruct(v.structValue);
    case "listValue": {
      const values = isObj(v.listValue) && Array.isArray(v.listValue.values) ? v.listValue.values : [];
      return values.map(fromValue);
    }
    default:
      return null;
  }
}

/** Converts a decoded `google.protobuf.Struct` to a plain object; plain JSON objects pass through. */
export function fromStruct(s: unknown): Record<string, unknown> {
  if (!isObj(s)) return {};
  if (!isStruct(s)) return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s.fields)) out[k] = fromValue(v);
  return out;
}

/**
 * An RFC 3339 string (millisecond precision) for a `google.protobuf.Timestamp` in object form or an RFC 3339
 * string; null when absent, unset (0) or unparseable.
 */
export function timestampToIso(t: unknown): string | null {
  if (t === null || t === undefined || t === "") return null;
  if (typeof t === "string") {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? null : new Date(ms).toISOString();
  }
  if (isObj(t) && ("seconds" in t || "nanos" in t)) {
    const seconds = Number(t.seconds ?? 0);
    const nanos = Number(t.nanos ?? 0);
    if (!Number.isFinite(seconds) || !Number.isFinite(nanos)) return null;
    if (seconds === 0 && nanos === 0) return null; // protobuf default: unset
    return new Date(seconds * 1000 + Math.floor(nanos / 1e6)).toISOString();
  }
  return null;
}
