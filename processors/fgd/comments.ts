/**
 * User comments carried through normalization. A managed file is rewritten from its object (keys sorted,
 * volatile fields dropped, provenance added), which would lose every `#` comment: an HNP export header, a
 * hand-written note on a field. Here the comments of a document's source text are read with the `yaml`
 * package's document model (`parseDocument`) and keyed by the path of the node they belong to; the emitter
 * (`emitYamlWithComments`) writes the normalized object in exactly the form of `emit_yaml.ts` and puts each
 * comment back beside its node:
 *
 * | comment in the source | written |
 * |---|---|
 * | above the first line, separated from it by a blank line | at the top, then a blank line |
 * | above the first key | at the top |
 * | above a key or a list item | above it (it moves with the key when keys are sorted) |
 * | after a scalar, `{}` or `[]` on its line | after it on its line |
 * | after a one-line flow collection (`{start: a, end: b} # note`) | above its key (it is written in block style) |
 * | after `key:` / on the lines below it, above the first child (the yaml model cannot tell these apart) | on the lines below `key:` |
 * | after the last entry of a mapping or list | after that mapping's content, at the indent of the next line |
 * | at the end of the document | at the end |
 * | on a field normalization drops (`status`, `creationTimestamp`, …) | at the end of the nearest kept parent |
 *
 * The written form parses back to the same comment placement, so re-normalizing it writes the same bytes
 * (byte stability: re-ingesting `managed/` writes nothing). Blank lines between comment lines are kept;
 * other blank lines are not (normalization owns the layout). Comments inside flow collections (`{a: 1}` on
 * one line) follow the collection. Documents without a `#` character skip all of this.
 */
import { isCollection, isMap, isPair, isScalar, isSeq, type Node, parseDocument } from "yaml";
import { emit as emitPlain, scalar, yamlString } from "./emit_yaml.ts";
import { quoted } from "./fast_yaml.ts";
import { isPlainObject } from "./object.ts";

/** Comments of one document, by node path (see {@link pathKey}). */
export interface Comments {
  /** Above the document, followed by a blank line (the yaml model's `doc.commentBefore`). */
  head?: string;
  /** Above the key or item line at a path; `""` is above the first line of the document. */
  before: Map<string, string>;
  /** After the scalar at a path, on its line. */
  inline: Map<string, string>;
  /** Below the `key:` line of a non-empty collection, above its first child. */
  start: Map<string, string>;
  /** After the content of a collection (`""`: after the document's content). */
  after: Map<string, string>;
}

type Seg = string | number;

/** The map key of a path: keys and indices joined with separators no YAML key text contains unescaped. */
export function pathKey(segs: readonly Seg[]): string {
  let s = "";
  for (const g of segs) s += typeof g === "number" ? `\u0001${g}` : `\u0000${g}`;
  return s;
}

/** Comment text without blank lines at its ends (blank lines stay only between comment lines). */
function tidy(text: string | null | undefined): string | undefined {
  if (text === null || text === undefined) return undefined;
  const lines = text.split("\n");
  let a = 0, b = lines.length;
  while (a < b && lines[a] === "") a++;
  while (b > a && lines[b - 1] === "") b--;
  return a < b ? lines.slice(a, b).join("\n") : undefined;
}

function add(m: Map<string, string>, key: string, raw: string | null | undefined): void {
  const text = tidy(raw);
  if (text === undefined) return;
  const prior = m.get(key);
  m.set(key, prior === undefined ? text : `${prior}\n${text}`);
}

function keyText(n: unknown): string {
  return isScalar(n) ? String(n.value) : String(n);
}

/**
 * The comments of one YAML document's source text, or undefined when it has none. Cheap for text without a
 * `#` (no parse). `plain` says the text is in the fast parser's subset (`fast_yaml.ts` read it): then the
 * comments are read line by line ({@link lineComments}, about 20x faster than the document model, which
 * reads everything else).
 */
export function extractComments(text: string, plain = false): Comments | undefined {
  if (!text.includes("#")) return undefined;
  if (plain) {
    const c = lineComments(text);
    if (c !== null) return c;
  }
  return modelComments(text);
}

/** Comments through the `yaml` package's document model (any YAML). */
export function modelComments(text: string): Comments | undefined {
  const doc = parseDocument(text, { uniqueKeys: false });
  const c: Comments = { before: new Map(), inline: new Map(), start: new Map(), after: new Map() };
  c.head = tidy(doc.commentBefore);
  const root = doc.contents as Node | null;
  const walk = (n: Node | null | undefined, segs: Seg[], item: boolean) => {
    if (!n) return;
    const at = pathKey(segs);
    if (isCollection(n)) {
      const empty = n.items.length === 0;
      // A collection's leading comment: below its `key:` line, or above a list item's "- " line.
      add(item || segs.length === 0 || empty ? c.before : c.start, at, n.commentBefore);
      // A one-line flow collection's comment (`range: {start: a, end: b} # note`) stays above its key: the
      // collection is written in block style, so "after its line" would be after all of its content.
      add(n.flow && !empty ? c.before : c.after, at, n.comment);
      if (isMap(n)) {
        n.items.forEach((p, i) => {
          if (!isPair(p)) return;
          const child = [...segs, keyText(p.key)];
          const k = p.key as Node | null;
          // The root mapping's first key: its comment is the document's header.
          const where = segs.length === 0 && i === 0 ? "" : pathKey(child);
          if (k && isScalar(k)) {
            add(c.before, where, k.commentBefore);
            add(c.before, pathKey(child), k.comment);
          }
          walk(p.value as Node | null, child, false);
        });
      } else if (isSeq(n)) {
        n.items.forEach((x, i) => walk(x as Node | null, [...segs, i], true));
      }
    } else {
      add(c.before, at, n.commentBefore);
      add(c.inline, at, n.comment);
    }
  };
  walk(root, [], false);
  add(c.after, "", doc.comment);
  return none(c) ? undefined : c;
}

function none(c: Comments): boolean {
  return c.head === undefined && !c.before.size && !c.inline.size && !c.start.size && !c.after.size;
}

/** Where a `#` comment starts in a line's value text (outside quotes), or -1. */
function commentAt(s: string, from: number): number {
  let q = "";
  for (let i = from; i < s.length; i++) {
    const ch = s[i];
    if (q) {
      if (q === '"' && ch === "\\") i++;
      else if (ch === q) {
        if (q === "'" && s[i + 1] === "'") i++;
        else q = "";
      }
    } else if (ch === "#" && (i === from || s[i - 1] === " ")) return i;
    else if ((ch === '"' || ch === "'") && (i === from || /[\s\[{,:]/.test(s[i - 1]))) q = ch;
  }
  return -1;
}

interface Frame {
  indent: number;
  /** Path key of the collection. */
  at: string;
  seq: boolean;
  next: number;
  lastKey?: string;
}

/**
 * Comments of a document in the fast parser's subset, read line by line: comment lines above a content
 * line belong to the node that line starts (a key, or a list item); a comment after a value is inline; a
 * comment block at the top followed by a blank line is the head; comment lines after the last content line
 * are the end of the document. Returns null for a line shape it does not know (the caller falls back to the
 * document model), undefined when there are no comments.
 */
export function lineComments(text: string): Comments | undefined | null {
  const c: Comments = { before: new Map(), inline: new Map(), start: new Map(), after: new Map() };
  const stack: Frame[] = [];
  let opener: string | undefined = ""; // the path a deeper line continues (root, `key:` or `-` without value)
  let buf: { text: string; indent: number }[] = []; // comment lines (indent -1: a blank line)
  let first = true;
  const joined = (lines: { text: string; indent: number }[]): string | undefined => {
    let a = 0, b = lines.length;
    while (a < b && lines[a].indent < 0) a++;
    while (b > a && lines[b - 1].indent < 0) b--;
    return a < b ? lines.slice(a, b).map((l) => l.text).join("\n") : undefined;
  };
  /**
   * Sorts the buffered comment lines before a content line at column `indent` (or the end, -1): a line
   * indented deeper than that content belongs to the end of the innermost collection still open at its
   * column; the others sit above the content line.
   */
  const settle = (indent: number): { text: string; indent: number }[] => {
    const above: { text: string; indent: number }[] = [];
    let group: { text: string; indent: number }[] = above;
    let groupAt = "";
    const trailing = new Map<string, { text: string; indent: number }[]>();
    for (const l of buf) {
      if (l.indent < 0) {
        group.push(l);
        continue;
      }
      let owner: Frame | undefined;
      if (l.indent > indent) {
        for (let i = stack.length - 1; i >= 0; i--) {
          if (stack[i].indent <= l.indent && stack[i].indent > indent) {
            owner = stack[i];
            break;
          }
        }
      }
      if (!owner) {
        group = above;
      } else {
        groupAt = owner.at;
        group = trailing.get(groupAt) ?? [];
        trailing.set(groupAt, group);
      }
      group.push(l);
    }
    for (const [at, lines] of trailing) {
      const t = joined(lines);
      if (t !== undefined) add(c.after, at, t);
    }
    buf = [];
    return above;
  };
  const inlineAt = (segs: string, s: string, from: number) => {
    if (!s.includes("#")) return;
    const at = commentAt(s, from);
    if (at >= 0) add(c.inline, segs, s.slice(at + 1) || " ");
  };
  const flushBefore = (segs: string, above: { text: string; indent: number }[]) => {
    if (first) {
      first = false;
      const blankAfter = above.length > 0 && above[above.length - 1].indent < 0;
      const t = joined(above);
      if (t !== undefined) {
        if (blankAfter) c.head = t;
        else add(c.before, "", t);
      }
      return;
    }
    const t = joined(above);
    if (t !== undefined) add(c.before, segs, t);
  };
  // One node starting at column `indent` with text `s`; `above` are the comment lines above its line.
  const node = (
    indent: number,
    s: string,
    above: { text: string; indent: number }[] | undefined,
  ): boolean => {
    while (stack.length && stack[stack.length - 1].indent > indent) stack.pop();
    let top = stack[stack.length - 1];
    const item = s === "-" || s.startsWith("- ");
    if (!top || top.indent < indent) {
      if (opener === undefined) return false;
      top = { indent, at: opener, seq: item, next: 0 };
      stack.push(top);
    } else if (item && !top.seq) {
      if (top.lastKey === undefined) return false;
      top = { indent, at: `${top.at}\u0000${top.lastKey}`, seq: true, next: 0 }; // `key:` then `- ` at its column
      stack.push(top);
    } else if (!item && top.seq) {
      stack.pop();
      top = stack[stack.length - 1];
      if (!top || top.seq || top.indent !== indent) return false;
    }
    opener = undefined;
    if (item) {
      const segs = `${top.at}\u0001${top.next++}`;
      if (above) flushBefore(segs, above);
      const rest = s.slice(1).trimStart();
      if (rest === "" || rest[0] === "#") {
        if (rest[0] === "#") add(c.inline, segs, rest.slice(1) || " ");
        opener = segs;
        return true;
      }
      const col = indent + (s.length - rest.length);
      if (rest === "-" || rest.startsWith("- ") || /^("[^"]*"|'[^']*'|[^\s"'#\[{][^#]*?):( |$)/.test(rest)) {
        opener = segs;
        return node(col, rest, undefined);
      }
      inlineAt(segs, rest, 0);
      return true;
    }
    let key: string;
    let at: number;
    if (s[0] === '"' || s[0] === "'") {
      const p = { s, i: 0 };
      try {
        key = quoted(p);
      } catch {
        return false;
      }
      at = p.i;
      if (s[at] !== ":") return false;
    } else {
      at = s.search(/:( |$)/);
      if (at < 0) return false;
      key = s.slice(0, at).replace(/ +$/, "");
    }
    top.lastKey = key;
    const segs = `${top.at}\u0000${key}`;
    if (above) flushBefore(segs, above);
    const rest = s.slice(at + 1).trimStart();
    if (rest === "" || rest[0] === "#") {
      if (rest[0] === "#") add(c.inline, segs, rest.slice(1) || " ");
      opener = segs;
      return true;
    }
    inlineAt(segs, rest, 0);
    return true;
  };
  for (const raw of text.split("\n")) {
    const s = raw.trimStart();
    if (s === "" || (raw.startsWith("---") && /^---(\s|$)/.test(raw))) {
      if (buf.length) buf.push({ text: "", indent: -1 });
      continue;
    }
    if (s[0] === "#") {
      buf.push({ text: s.slice(1) || " ", indent: raw.length - s.length });
      continue;
    }
    const indent = raw.length - s.length;
    // Pop what this line closes only after its comments found their collections.
    const above = first ? buf.splice(0) : buf.length ? settle(indent) : buf;
    if (!node(indent, s.endsWith(" ") ? s.replace(/ +$/, "") : s, above)) return null;
  }
  const end = settle(-1);
  const t = joined(end);
  if (t !== undefined) add(c.after, "", t);
  return none(c) ? undefined : c;
}

/** The value at a path key, or `MISSING`. */
const MISSING = Symbol("missing");
function at(value: unknown, key: string): unknown {
  let v = value;
  let i = 0;
  while (i < key.length) {
    const mark = key[i];
    let j = i + 1;
    while (j < key.length && key[j] !== "\u0000" && key[j] !== "\u0001") j++;
    const seg = key.slice(i + 1, j);
    if (mark === "\u0001") {
      if (!Array.isArray(v)) return MISSING;
      const n = Number(seg);
      if (!(n < v.length)) return MISSING;
      v = v[n];
    } else {
      if (!isPlainObject(v) || !Object.hasOwn(v, seg)) return MISSING;
      v = v[seg];
    }
    i = j;
  }
  return v;
}

function isContainer(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : isPlainObject(v) && Object.keys(v).length > 0;
}

/** True for the path of a mapping entry (written as `key: ...`, which can carry a comment on its line). */
function keyed(at: string): boolean {
  return at.lastIndexOf("\u0000") > at.lastIndexOf("\u0001");
}

function parentOf(at: string): string {
  const i = Math.max(at.lastIndexOf("\u0000"), at.lastIndexOf("\u0001"));
  return i <= 0 ? "" : at.slice(0, i);
}

/**
 * Comments placed on the paths of `value` (the normalized object): comments of paths the object no longer
 * has go to the end of the nearest kept parent collection; `start` comments of what is now empty or a
 * scalar, and `inline` comments of what is now a collection, go above the path.
 */
function placed(value: unknown, c: Comments): Comments {
  const all = { has: (p: string) => at(value, p) !== MISSING };
  const containers = { has: (p: string) => isContainer(at(value, p)) };
  const out: Comments = {
    head: c.head,
    before: new Map(),
    inline: new Map(),
    start: new Map(),
    after: new Map(),
  };
  const home = (at: string): string => {
    let p = parentOf(at);
    while (p !== "" && !containers.has(p)) p = parentOf(p);
    return p;
  };
  for (const [at, text] of c.before) {
    if (at === "" || all.has(at)) add(out.before, at, text);
    else add(out.after, home(at), text);
  }
  for (const [at, text] of c.inline) {
    if (all.has(at) && (!containers.has(at) || keyed(at))) add(out.inline, at, text);
    else if (all.has(at)) add(out.before, at, text);
    else add(out.after, home(at), text);
  }
  for (const [at, text] of c.start) {
    if (containers.has(at)) add(out.start, at, text);
    else if (all.has(at)) add(out.before, at, text);
    else add(out.after, home(at), text);
  }
  for (const [at, text] of c.after) {
    if (at === "" || containers.has(at)) add(out.after, at, text);
    else if (all.has(at)) add(out.inline, at, text); // now empty (`{}`, `[]`) or a scalar: on its line
    else add(out.after, home(at), text);
  }
  return out;
}

/** Comment text (lines without `#`) as YAML comment lines at an indent; blank lines stay blank. */
function commentLines(text: string, indent: string, out: string[]): void {
  for (const line of text.split("\n")) {
    if (line === "") out.push("\n");
    else if (line.trim() === "") out.push(`${indent}#\n`);
    else out.push(`${indent}#${line}\n`);
  }
}

/**
 * Serializes a value exactly as `emitYaml` does, with the comments of its source document (from
 * {@link extractComments}) put back beside their nodes.
 */
export function emitYamlWithComments(value: unknown, comments: Comments): string {
  return new Emitter(placed(value, comments)).document(value);
}

class Emitter {
  out: string[] = [];
  /** Paths with a comment at or below them; other subtrees are written by the plain emitter. */
  readonly marked = new Set<string>();
  /** Trailing comments of collections that ended, with the indent of their content: written before the next line. */
  readonly pending: [string, string][] = [];
  constructor(readonly c: Comments) {
    for (const m of [c.before, c.inline, c.start, c.after]) {
      for (const p of m.keys()) {
        for (let q = p; q !== ""; q = parentOf(q)) {
          if (this.marked.has(q)) break;
          this.marked.add(q);
        }
      }
    }
  }

  flush(): void {
    for (const [t, indent] of this.pending) commentLines(t, indent, this.out);
    this.pending.length = 0;
  }

  inline(at: string, indent: string): string {
    const text = this.c.inline.get(at);
    if (text === undefined) return "";
    const [first, ...rest] = text.split("\n");
    if (rest.length) this.pending.push([rest.join("\n"), indent]);
    return first.trim() === "" ? " #" : ` #${first}`;
  }

  lines(m: Map<string, string>, at: string, indent: string): void {
    const t = m.get(at);
    if (t !== undefined) commentLines(t, indent, this.out);
  }

  document(value: unknown): string {
    const { c, out } = this;
    if (c.head !== undefined) {
      commentLines(c.head, "", out);
      out.push("\n");
    }
    this.lines(c.before, "", "");
    const s = scalar(value);
    if (s !== undefined) out.push(`${s}${this.inline("", "")}\n`);
    else this.node(value, "", "");
    const end = c.after.get("");
    if (end !== undefined) this.pending.push([end, ""]);
    this.flush();
    return out.join("");
  }

  node(v: unknown, indent: string, at: string): void {
    const { c, out } = this;
    if (at !== "" && !this.marked.has(at)) {
      this.flush();
      emitPlain(v, indent, out);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        const p = `${at}\u0001${i}`;
        this.flush();
        this.lines(c.before, p, indent);
        const s = scalar(item);
        if (s !== undefined) {
          out.push(`${indent}- ${s}${this.inline(p, indent)}\n`);
          return;
        }
        // A collection item: its first content line follows "- "; comments the item's content starts with
        // (its own, its first child's, a nested first item's) go above the "- " line.
        this.lines(c.start, p, indent);
        const outer = this.out;
        const inner: string[] = [];
        this.out = inner;
        this.node(item, `${indent}  `, p);
        this.out = outer;
        let j = 0;
        for (; j < inner.length; j++) {
          const t = inner[j].trimStart();
          if (t !== "" && t[0] !== "#") break;
          outer.push(t === "" ? "\n" : `${indent}${t}`);
        }
        outer.push(`${indent}- ${inner[j].slice(indent.length + 2)}`);
        for (j++; j < inner.length; j++) outer.push(inner[j]);
        const a = c.after.get(p);
        if (a !== undefined) this.pending.push([a, `${indent}  `]);
      });
      return;
    }
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      const p = `${at}\u0000${k}`;
      const key = yamlString(k);
      this.flush();
      this.lines(c.before, p, indent);
      const s = scalar(item);
      if (s !== undefined) {
        out.push(`${indent}${key}: ${s}${this.inline(p, indent)}\n`);
        continue;
      }
      out.push(`${indent}${key}:${this.inline(p, indent)}\n`);
      const child = `${indent}  `;
      this.lines(c.start, p, child);
      this.node(item, child, p);
      const a = c.after.get(p);
      if (a !== undefined) this.pending.push([a, child]);
    }
  }
}
