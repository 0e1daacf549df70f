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

/**
 * True when a plain scalar cannot start at `s[i]`: an indicator character, or `-`, `?`, `:` followed by
 * white space or the end (the pattern `^[\[\]{},#&*!|>'"%@\`]|^[-?:](\s|$)` on `s.slice(i)`, without the copy).
 */
function forbiddenStart(s: string, i: number): boolean {
  switch (s.charCodeAt(i)) {
    case 91: // [
    case 93: // ]
    case 123: // {
    case 125: // }
    case 44: // ,
    case 35: // #
    case 38: // &
    case 42: // *
    case 33: // !
    case 124: // |
    case 62: // >
    case 39: // '
    case 34: // "
    case 37: // %
    case 64: // @
    case 96: // `
      return true;
    case 45: // -
    case 63: // ?
    case 58: // :
      return i + 1 >= s.length || WHITE.test(s[i + 1]);
  }
  return false;
}

const WHITE = /\s/;

/** `s` without trailing spaces. */
function trimSpacesEnd(s: string): string {
  return s.charCodeAt(s.length - 1) === 32 ? s.replace(/ +$/, "") : s;
}

// Where a plain scalar ends (a comment, or a flow indicator in a flow collection), or `: ` / a final `:`
// inside it (not in the subset). One search instead of a loop over its characters.
const PLAIN_END_BLOCK = / #|:(?: |$)/g;
const PLAIN_END_FLOW = /[,\][{}]| #|:(?: |$)/g;
const FLOW_KEY_END = /[:,\[\]{}#]/g;

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
  const s = p.s;
  if (forbiddenStart(s, p.i)) bail();
  const re = inFlow ? PLAIN_END_FLOW : PLAIN_END_BLOCK;
  re.lastIndex = p.i;
  const m = re.exec(s);
  const end = m ? m.index : s.length;
  if (m && s.charCodeAt(end) === 58) bail(); // ": " or a final ":"
  const text = trimSpacesEnd(p.i === 0 && end === s.length ? s : s.slice(p.i, end));
  p.i = end;
  if (inFlow && text === "") bail();
  return plain(text);
}

function plainKeyInFlow(p: { s: string; i: number }): string {
  const start = p.i;
  FLOW_KEY_END.lastIndex = start;
  p.i = FLOW_KEY_END.exec(p.s)?.index ?? p.s.length;
  const k = p.s.slice(start, p.i).trim();
  if (!k || forbiddenStart(k, 0) || typeof plain(k) !== "string") bail();
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
    if (forbiddenStart(text, 0)) bail();
    // the first `: ` or final `:`; a ` #` before it is a comment where the key should be (not in the subset)
    at = text.indexOf(": ");
    if (at < 0) at = text.charCodeAt(text.length - 1) === 58 ? text.length - 1 : bail();
    const hash = text.indexOf(" #");
    if (hash >= 0 && hash + 1 < at) bail();
    key = trimSpacesEnd(text.slice(0, at));
    if (typeof plain(key) !== "string" || key.includes(" #")) bail();
  }
  if (at + 1 < text.length && text.charCodeAt(at + 1) !== 32) bail();
  return [key, text.slice(at + 1).trim()];
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
    if (text === "" || text.charCodeAt(0) === 35) continue; // blank, or a comment line
    lines.push({ indent: raw.length - text.length, text: trimSpacesEnd(text) });
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
  let current = segments[0].lines;
  for (const line of lines) {
    const c0 = line.charCodeAt(0);
    if (c0 === 45 && /^---(\s|$)/.test(line)) {
      if (line.slice(3).trim() !== "") return undefined;
      current = [];
      segments.push({ start: offset, lines: current });
    } else if (c0 === 46 && /^\.\.\.(\s|$)/.test(line)) return undefined;
    else current.push(line);
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
