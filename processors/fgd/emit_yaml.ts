/**
 * A small, fast, deterministic YAML emitter for normalized objects (mappings, sequences, scalars): block
 * style, 2-space indent, sequences indented under their key. A string is written plain only when both
 * YAML 1.2 (lzsync, the `yaml` package) and YAML 1.1 readers (kubectl, Flux: go-yaml) read it back as the
 * same string; otherwise it is double-quoted (JSON string syntax, which is valid YAML). About 20x faster than
 * a generic document-model stringifier, which matters when a run writes thousands of files.
 */

/**
 * A string that may be written plain as far as its characters go: a safe first character, then safe
 * characters, where a space is never last and a colon is never last nor followed by a space (`: ` would
 * start a mapping value; a trailing space would be dropped). `#` is not a safe character, so ` #` (a
 * comment) cannot occur either.
 */
const PLAIN = /^[A-Za-z0-9_./](?:[A-Za-z0-9_./@+=,()<>-]| (?!$)|:(?! |$))*$/;
/** Strings a YAML 1.1 or 1.2 reader reads as something else than a string, as one alternation. */
const AMBIGUOUS = new RegExp(
  [
    /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE|null|Null|NULL|=|<<)$/,
    /^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$/, // ints/floats, also with 1.1 underscores
    /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$/, // 1.1 sexagesimal
    /^[-+]?0(b[01_]+|o[0-7]+|x[0-9a-fA-F_]+)$/,
    /^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/,
    /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/, // timestamps
  ].map((r) => `(?:${r.source})`).join("|"),
);

/**
 * First characters an {@link AMBIGUOUS} pattern can start with: a string starting with any other character
 * needs none of them tested (most strings of an object, e.g. names, start with a letter).
 */
const AMBIGUOUS_START = new Set("yYnNoOtTfF=<-+.0123456789");

/** The scalar text of a string: plain when unambiguous, else double-quoted. */
export function yamlString(s: string): string {
  if (PLAIN.test(s) && (!AMBIGUOUS_START.has(s[0]) || !AMBIGUOUS.test(s))) return s;
  return JSON.stringify(s);
}

// Mapping keys repeat across every object of a run (apiVersion, metadata, spec, ...): their scalar text is
// remembered, up to a bound so that a run over unusual keys cannot grow it without limit.
const KEY_TEXT = new Map<string, string>();
const MAX_KEYS = 4096;

function keyText(k: string): string {
  let t = KEY_TEXT.get(k);
  if (t === undefined) {
    t = yamlString(k);
    if (KEY_TEXT.size < MAX_KEYS) KEY_TEXT.set(k, t);
  }
  return t;
}

/** The YAML text of a scalar (or of an empty list / mapping); undefined for a value that needs a block. */
export function scalar(v: unknown): string | undefined {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return yamlString(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return ".nan";
    if (!Number.isFinite(v)) return v > 0 ? ".inf" : "-.inf";
    return Object.is(v, -0) ? "0" : String(v);
  }
  if (typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return v.length === 0 ? "[]" : undefined;
  if (typeof v === "object") return Object.keys(v as object).length === 0 ? "{}" : undefined;
  return JSON.stringify(String(v));
}

/** Appends the block-style lines of a non-empty collection at `indent` (exported for `comments.ts`). */
export function emit(v: unknown, indent: string, out: string[]): void {
  out.push(block(v, indent));
}

/**
 * The block-style lines of a non-empty collection at `indent`, as one string (built by concatenation: no
 * array of line parts to join, no entry pairs per mapping).
 */
function block(v: unknown, indent: string): string {
  let out = "";
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = scalar(item);
      if (s !== undefined) out += `${indent}- ${s}\n`;
      else out += `${indent}- ${block(item, `${indent}  `).slice(indent.length + 2)}`;
    }
    return out;
  }
  const m = v as Record<string, unknown>;
  for (const k in m) {
    if (!Object.hasOwn(m, k)) continue;
    const item = m[k];
    const s = scalar(item);
    if (s !== undefined) out += `${indent}${keyText(k)}: ${s}\n`;
    else out += `${indent}${keyText(k)}:\n${block(item, `${indent}  `)}`;
  }
  return out;
}

/** Serializes a mapping (or any value) as a YAML document ending in a newline. */
export function emitYaml(value: unknown): string {
  const s = scalar(value);
  if (s !== undefined) return `${s}\n`;
  return block(value, "");
}
