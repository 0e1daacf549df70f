/**
 * JSON serialization of topic values, validated against `schemas/` at produce and at consume. Validators are
 * compiled once per topic. Topics without a declaration (changelogs) are plain JSON.
 */
import { Buffer } from "node:buffer";
import { TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { FormatRegistry, type TSchema } from "@sinclair/typebox";
import { topicDef } from "../schemas/mod.ts";
import { LzError, ValidationError } from "./errors.ts";

// TypeBox knows no string formats until they are registered; declarations in schemas/ use these.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
// Records of one batch mostly carry the same few times (observed_at of a snapshot, evaluated_at): the last
// value that matched is remembered, so each record's times cost a string comparison, not a regex.
let lastDateTime = "";
const FORMATS: Record<string, (v: string) => boolean> = {
  "date-time": (v) => {
    if (v === lastDateTime) return true;
    if (!DATE_TIME.test(v)) return false;
    lastDateTime = v;
    return true;
  },
  "uri": (v) => URL.canParse(v),
};
for (const [name, check] of Object.entries(FORMATS)) {
  if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });
const compiled = new Map<string, TypeCheck<TSchema> | null>();

/**
 * Strict UTF-8 decoding (a leading BOM dropped, invalid input throws a TypeError), as `dec.decode` but
 * about twice as fast on the hot path: the lenient native decoder is only trusted when its output holds no
 * U+FFFD (then the input was valid UTF-8 and both agree); otherwise the strict decoder decides.
 */
export function utf8(bytes: Uint8Array): string {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (s.indexOf("\uFFFD") >= 0) return dec.decode(bytes);
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/**
 * TypeBox's check of a `Record(String(), Unknown())` (`AnyObject` in the declarations) ends with a loop over
 * every entry of the object that tests each key against `^(.*)$` and yields true either way
 * (`pattern.test(key) ? (true) : true`): it cannot fail, and it costs an `Object.entries` array per object
 * checked (half the time of checking an `lz.fgd.objects.v1` record, whose Kubernetes objects are such
 * records).
 */
const ALWAYS_TRUE_KEYS =
  /\(Object\.entries\((value(?:\['[^'\]]+'\])*)\)\.every\(\(\[key, value\]\) => \(local_\d+\.test\(key\) \? \(true\) : true\)\)\)/g;

/**
 * `TypeCompiler.Compile(schema)` without the loops that cannot fail ({@link ALWAYS_TRUE_KEYS}): the same
 * verdict on every value, and the same errors (`Errors` walks the schema, not the code). The code is
 * evaluated as TypeBox evaluates it, with its format lookup; a schema whose code calls custom kinds or
 * hashes (none in schemas/ today) is compiled by TypeBox as it is.
 */
export function compileChecker(schema: TSchema): TypeCheck<TSchema> {
  const code = TypeCompiler.Code(schema);
  const lean = code.replace(ALWAYS_TRUE_KEYS, "true");
  if (lean === code || /\b(kind|hash)\(/.test(code)) return TypeCompiler.Compile(schema);
  const format = (name: string, value: unknown) => {
    if (!FormatRegistry.Has(name)) return false;
    return FormatRegistry.Get(name)!(value as string);
  };
  const unused = () => {
    throw new Error("not compiled with kinds or hashes");
  };
  const check = new Function("kind", "format", "hash", lean)(unused, format, unused);
  return new TypeCheck(schema, [], check, lean);
}

function checker(topic: string): TypeCheck<TSchema> | null {
  let c = compiled.get(topic);
  if (c === undefined) {
    const def = topicDef(topic);
    c = def ? compileChecker(def.schema) : null;
    compiled.set(topic, c);
  }
  return c;
}

/** Validates `value` against `schema`, throwing a {@link ValidationError} listing each bad field's path. */
export function validateAgainst(check: TypeCheck<TSchema>, value: unknown, what: string): void {
  if (check.Check(value)) return;
  const issues = [...check.Errors(value)].slice(0, 10).map((e) => ({
    path: e.path || "/",
    message: e.message,
  }));
  const first = issues[0];
  throw new ValidationError(`${what} is invalid at ${first?.path}: ${first?.message}`, issues);
}

/** Throws a {@link ValidationError} when `value` does not match the declared schema of `topic`. */
export function validate(topic: string, value: unknown): void {
  const c = checker(topic);
  if (c) validateAgainst(c, value, `value for ${topic}`);
}

/** Validates and serializes a value for `topic`; `null` (tombstone) passes through. */
export function encode(topic: string, value: unknown): Uint8Array | null {
  if (value === null) return null;
  validate(topic, value);
  return enc.encode(JSON.stringify(value));
}

/**
 * {@link encode} for a caller that already holds `json`, which must be `JSON.stringify(value)`: validates
 * `value` and encodes `json` without serializing the value a second time.
 */
export function encodeSerialized(topic: string, value: unknown, json: string): Uint8Array {
  validate(topic, value);
  return enc.encode(json);
}

/** Parses and validates bytes read from `topic`. Throws LzError(DECODE) or ValidationError on bad input. */
export function decode<T = unknown>(topic: string, bytes: Uint8Array | null): T | null {
  if (bytes === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(utf8(bytes));
  } catch (err) {
    throw new LzError("DECODE", `record on ${topic} is not valid UTF-8 JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  validate(topic, value);
  return value as T;
}

/** Serializes without validation (internal topics such as changelogs). */
export function encodeJson(value: unknown): Uint8Array {
  return enc.encode(JSON.stringify(value));
}

/**
 * Serializes many values (without validation) into one shared buffer: each result is a view of its bytes.
 * One allocation and one native call per value instead of a fresh array per value; values with non-ASCII
 * text that no longer fit fall back to their own array. The same bytes as {@link encodeJson} per value.
 */
export function encodeJsonAll(values: readonly unknown[]): Uint8Array[] {
  const texts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) texts[i] = JSON.stringify(values[i]);
  return encodeTextsAll(texts);
}

/** Parses without validation (internal topics such as changelogs). */
export function decodeJson<T = unknown>(bytes: Uint8Array): T {
  return JSON.parse(utf8(bytes)) as T;
}

/**
 * Texts at least this long are encoded one native call each: joining them first copies them all into one
 * string, which costs more than the calls (10,000 texts of 1,700 characters: 21 ms joined, 9 ms one by one);
 * for shorter texts the calls cost more (100,000 of 100: 28 ms joined, 50 ms one by one).
 */
const LONG_TEXT = 512;

/**
 * UTF-8 bytes of many JSON texts at once (one buffer, like {@link encodeJsonAll}). The usual case — every
 * text ASCII — is one native call over each run of short texts joined, cut at their lengths, and one per
 * long text ({@link LONG_TEXT}); otherwise each text is encoded in turn.
 */
export function encodeTextsAll(texts: readonly string[]): Uint8Array[] {
  let total = 0;
  for (let i = 0; i < texts.length; i++) total += texts[i].length;
  const buf = new Uint8Array(total);
  const out = new Array<Uint8Array>(texts.length);
  let at = 0;
  for (let i = 0; i < texts.length;) {
    let j = i + 1;
    if (texts[i].length < LONG_TEXT) { while (j < texts.length && texts[j].length < LONG_TEXT) j++; }
    if (j - i > 1) {
      // (the whole list is joined as it is: a copy of a long list made the join of 100,000 texts 1.5x slower)
      const all = (j - i === texts.length ? texts : texts.slice(i, j)).join("");
      const { read, written } = enc.encodeInto(all, buf.subarray(at));
      // each UTF-16 unit became one byte: all ASCII, so every text's bytes start where its characters do
      if (read === all.length && written === all.length) {
        for (; i < j; i++) {
          const n = texts[i].length;
          out[i] = buf.subarray(at, at + n);
          at += n;
        }
        continue;
      }
    }
    for (; i < j; i++) {
      const s = texts[i];
      const { read, written } = enc.encodeInto(s, buf.subarray(at));
      if (read === s.length) {
        out[i] = buf.subarray(at, at + written);
        at += written;
      } else out[i] = enc.encode(s);
    }
  }
  return out;
}
