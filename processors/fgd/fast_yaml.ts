/**
 * A fast path for the plain YAML that CR files usually are: block mappings and sequences, single-line
 * plain and quoted scalars, single-line flow collections, comments, `---` separators. About an order of
 * magnitude faster than the general parser. Anything outside that subset — anchors, aliases, tags, block
 * or multi-line scalars, complex keys, tabs, directives, duplicate keys, non-string keys — returns
 * `undefined` and the caller falls back to the `yaml` package for the whole file, so results never differ
 * (checked by differential tests against the `yaml` package). Scalars resolve with the YAML 1.2 core
 * schema, as the `yaml` package does by default.
 */

/** One document: its index in the file, its value, and its source text (from its `---` line). */
export interface FastDoc {
  index: number;
  value: unknown;
  text: string;
}

class Bail extends Error {}
const bail = (): never => {
  throw new Bail();
};

interface Line {
  indent: number;
  text: string;
}

const INT = /^[-+]?[0-9]+$/;
const OCT = /^0o[0-7]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const INF = /^[-+]?\.(?:inf|Inf|INF)$/;
const NAN = /^\.(?:nan|NaN|NAN)$/;

/** Resolves a plain scalar with the YAML 1.2 core schema. */
function plain(s: string): unknown {
  switch (s) {
    case "":
    case "~":
    case "null":
    case "Null":
    case "NULL":
      return null;
    case "true":
    case "True":
    case "TRUE":
      return true;
    case "false":
    case "False":
    case "FALSE":
      return false;
  }
  const c = s.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
    if (INT.test(s)) {
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : bail();
    }
    if (OCT.test(s)) return parseInt(s.slice(2), 8);
    if (HEX.test(s)) return parseInt(s.slice(2), 16);
    if (FLOAT.test(s)) return Number(s);
    if (INF.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
    if (NAN.test(s)) return NaN;
  }
  return s;
}

const PLAIN_START_FORBIDDEN = /^[\[\]{},#&*!|>'"%@`]|^[-?:](\s|$)/;

/** Parses a scalar or flow collection that fills `s` (already trimmed of a trailing comment where possible). */
function inline(s: string): unknown {
  const p = { s, i: 0 };
  const v = flowValue(p, false);
  skipSpaces(p);
  if (p.i < s.length) {
    if (s[p.i] === "#" && (p.i === 0 || s[p.i - 1] === " ")) return v;
    bail();
  }
  return v;
}

function skipSpaces(p: { s: string; i: number }): void {
  while (p.s[p.i] === " ") p.i++;
}

/** Reads the quoted scalar starting at `p.i` (throws on a malformed one); exported for `comments.ts`. */
export function quoted(p: { s: string; i: number }): string {
  const q = p.s[p.i];
  let out = "";
  p.i++;
  while (p.i < p.s.length) {
    const ch = p.s[p.i];
    if (q === "'") {
      if (ch === "'") {
        if (p.s[p.i + 1] === "'") {
          out += "'";
          p.i += 2;
          continue;
        }
        p.i++;
        return out;
      }
      out += ch;
      p.i++;
      continue;
    }
    if (ch === '"') {
      p.i++;
      return out;
    }
    if (ch === "\\") {
      const e = p.s[p.i + 1];
      const simple: Record<string, string> = {
        '"': '"',
        "\\": "\\",
        "/": "/",
        b: "\b",
        f: "\f",
        n: "\n",
        r: "\r",
        t: "\t",
      };
      if (e in simple) {
        out += simple[e];
        p.i += 2;
        continue;
      }
      if (e === "u" && /^[0-9a-fA-F]{4}$/.test(p.s.slice(p.i + 2, p.i + 6))) {
        out += String.fromCharCode(parseInt(p.s.slice(p.i + 2, p.i + 6), 16));
        p.i += 6;
        continue;
      }
      bail();
    }
    out += ch;
    p.i++;
  }
  return bail(); // unterminated: a multi-line quoted scalar
}

/** A value inside or outside a flow collection. */
function flowValue(p: { s: string; i: number }, inFlow: boolean): unknown {
  skipSpaces(p);
  const ch = p.s[p.i];
  if (ch === '"' || ch === "'") return quoted(p);
  if (ch === "[") {
    p.i++;
    const out: unknown[] = [];
    skipSpaces(p);
    if (p.s[p.i] === "]") {
      p.i++;
      return out;
    }
    for (;;) {
      out.push(flowValue(p, true));
      skipSpaces(p);
      if (p.s[p.i] === ",") {
        p.i++;
        skipSpaces(p);
        if (p.s[p.i] === "]") bail();
        continue;
      }
      if (p.s[p.i] === "]") {
        p.i++;
        return out;
      }
      return bail();
    }
  }
  if (ch === "{") {
    p.i++;
    const out: Record<string, unknown> = {};
    skipSpaces(p);
    if (p.s[p.i] === "}") {
      p.i++;
      return out;
    }
    for (;;) {
      skipSpaces(p);
      const k = p.s[p.i] === '"' || p.s[p.i] === "'" ? quoted(p) : plainKeyInFlow(p);
      skipSpaces(p);
      if (p.s[p.i] !== ":") bail();
      p.i++;
      if (p.s[p.i] !== " ") bail();
      if (Object.hasOwn(out, k) || k === "__proto__") bail();
      out[k] = flowValue(p, true);
      skipSpaces(p);
      if (p.s[p.i] === ",") {
        p.i++;
        continue;
      }
      if (p.s[p.i] === "}") {
        p.i++;
        return out;
      }
      return bail();
    }
  }
  // plain scalar
  const rest = p.s.slice(p.i);
  if (PLAIN_START_FORBIDDEN.test(rest)) bail();
  let end = p.i;
  while (end < p.s.length) {
    const c = p.s[end];
    if (c === " " && p.s[end + 1] === "#") break;
    if (c === ":" && (p.s[end + 1] === " " || end + 1 === p.s.length)) bail();
    if (inFlow && (c === "," || c === "]" || c === "}" || c === "[" || c === "{")) break;
    end++;
  }
  const text = p.s.slice(p.i, end).replace(/ +$/, "");
  p.i = end;
  if (inFlow && text === "") bail();
  return plain(text);
}

function plainKeyInFlow(p: { s: string; i: number }): string {
  const start = p.i;
  while (p.i < p.s.length && !/[:,\[\]{}#]/.test(p.s[p.i])) p.i++;
  const k = p.s.slice(start, p.i).trim();
  if (!k || PLAIN_START_FORBIDDEN.test(k) || typeof plain(k) !== "string") bail();
  return k;
}

/** Splits `key: rest` of a block mapping line; the key must resolve to a string. */
function splitKey(text: string): [string, string] {
  let key: string;
  let at: number;
  if (text[0] === '"' || text[0] === "'") {
    const p = { s: text, i: 0 };
    key = quoted(p);
    at = p.i;
    if (text[at] !== ":") bail();
  } else {
    if (PLAIN_START_FORBIDDEN.test(text)) bail();
    at = -1;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === ":" && (i + 1 === text.length || text[i + 1] === " ")) {
        at = i;
        break;
      }
      if (text[i] === "#" && text[i - 1] === " ") bail();
    }
    if (at < 0) bail();
    key = text.slice(0, at).replace(/ +$/, "");
    if (typeof plain(key) !== "string" || key.includes(" #")) bail();
  }
  const rest = text.slice(at + 1);
  if (rest !== "" && rest[0] !== " ") bail();
  return [key, rest.trim()];
}

const isItem = (l: Line) => l.text === "-" || l.text.startsWith("- ");

function block(lines: Line[], i: number, indent: number): [unknown, number] {
  return isItem(lines[i]) ? seq(lines, i, indent) : map(lines, i, indent);
}

/** The value after `key:` / `-` when the rest of the line is empty: a nested block, or null. */
function nested(lines: Line[], i: number, indent: number, allowSeqAtSame: boolean): [unknown, number] {
  const next = lines[i + 1];
  if (next && next.indent > indent) return block(lines, i + 1, next.indent);
  if (next && allowSeqAtSame && next.indent === indent && isItem(next)) return seq(lines, i + 1, indent);
  return [null, i + 1];
}

function map(lines: Line[], i: number, indent: number): [Record<string, unknown>, number] {
  const out: Record<string, unknown> = {};
  while (i < lines.length && lines[i].indent === indent && !isItem(lines[i])) {
    const [key, rest] = splitKey(lines[i].text);
    if (Object.hasOwn(out, key) || key === "__proto__") bail();
    let value: unknown;
    if (rest === "" || rest.startsWith("#")) [value, i] = nested(lines, i, indent, true);
    else {
      value = inline(rest);
      i++;
    }
    out[key] = value;
  }
  if (i < lines.length && lines[i].indent > indent) bail();
  return [out, i];
}

function seq(lines: Line[], i: number, indent: number): [unknown[], number] {
  const out: unknown[] = [];
  while (i < lines.length && lines[i].indent === indent && isItem(lines[i])) {
    const raw = lines[i].text.slice(1);
    const rest = raw.trimStart();
    if (rest === "" || rest.startsWith("#")) {
      const [v, next] = nested(lines, i, indent, false);
      out.push(v);
      i = next;
      continue;
    }
    const col = indent + 1 + (raw.length - rest.length);
    if (rest.startsWith("- ") || rest === "-") {
      lines[i] = { indent: col, text: rest };
      const [v, next] = seq(lines, i, col);
      out.push(v);
      i = next;
      continue;
    }
    if (
      /^("[^"]*"|'[^']*'|[^\s"'#\[{][^#]*?):( |$)/.test(rest) && !rest.startsWith("[") &&
      !rest.startsWith("{")
    ) {
      lines[i] = { indent: col, text: rest };
      const [v, next] = map(lines, i, col);
      out.push(v);
      i = next;
      continue;
    }
    out.push(inline(rest));
    i++;
  }
  if (i < lines.length && lines[i].indent > indent) bail();
  return [out, i];
}

function parseDoc(body: string[]): unknown {
  const lines: Line[] = [];
  for (const raw of body) {
    const text = raw.trimStart();
    if (text === "" || text.startsWith("#")) continue;
    lines.push({ indent: raw.length - text.length, text: text.replace(/ +$/, "") });
  }
  if (lines.length === 0) return undefined;
  if (lines[0].indent !== 0) bail();
  if (lines.length === 1 && !isItem(lines[0]) && !/:( |$)/.test(lines[0].text)) return inline(lines[0].text);
  const [value, end] = block(lines, 0, 0);
  if (end !== lines.length) bail();
  return value;
}

/**
 * Parses a multi-document YAML text on the fast path, or returns undefined when the text uses anything
 * outside the subset (the caller then uses the general parser). Empty documents are skipped; indices count
 * every document.
 */
export function fastParseDocuments(text: string): FastDoc[] | undefined {
  if (text.includes("\t") || text.includes("\r")) return undefined;
  const lines = text.split("\n");
  const segments: { start: number; lines: string[] }[] = [{ start: 0, lines: [] }];
  let offset = 0;
  for (const line of lines) {
    if (/^---(\s|$)/.test(line)) {
      if (line.slice(3).trim() !== "") return undefined;
      segments.push({ start: offset, lines: [] });
    } else if (/^\.\.\.(\s|$)/.test(line)) return undefined;
    else segments[segments.length - 1].lines.push(line);
    offset += line.length + 1;
  }
  const contentless = (s: { lines: string[] }) =>
    s.lines.every((l) => l.trim() === "" || l.trimStart().startsWith("#"));
  if (segments.length > 1 && contentless(segments[0])) {
    segments[1] = { start: 0, lines: [...segments[0].lines, ...segments[1].lines] };
    segments.shift();
  }
  const docs: FastDoc[] = [];
  try {
    segments.forEach((s, index) => {
      const value = parseDoc(s.lines);
      const end = index + 1 < segments.length ? segments[index + 1].start : text.length;
      if (value !== undefined && value !== null) docs.push({ index, value, text: text.slice(s.start, end) });
    });
  } catch (err) {
    if (err instanceof Bail) return undefined;
    throw err;
  }
  return docs;
}
