import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { fastParseDocuments } from "./fast_yaml.ts";
import { emitYaml } from "./emit_yaml.ts";
import { FABRIC_YAML, fabricObjects, hedgehogCrdFiles } from "./testdata/mod.ts";

/** What the general parser says: non-empty documents with their index and value. */
function reference(text: string): { index: number; value: unknown }[] | "error" {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  if (docs.some((d) => d.errors.length)) return "error";
  const out: { index: number; value: unknown }[] = [];
  docs.forEach((d, index) => {
    const value = d.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) out.push({ index, value });
  });
  return out;
}

/** The fast path either declines or agrees with the general parser exactly. */
function agree(text: string): boolean {
  const fast = fastParseDocuments(text);
  if (!fast) return false;
  const ref = reference(text);
  assert.notEqual(ref, "error", `fast path accepted text the general parser rejects:\n${text}`);
  assert.deepEqual(fast.map(({ index, value }) => ({ index, value })), ref, text);
  return true;
}

Deno.test("fastParseDocuments agrees with the yaml package on the sample fabric and on emitted objects", () => {
  assert.ok(agree(FABRIC_YAML));
  for (const o of fabricObjects()) assert.ok(agree(emitYaml(o)), emitYaml(o));
  const dir = new URL("../../deploy/sample-lz/fabrics/dc1/raw/", import.meta.url);
  for (const e of Deno.readDirSync(dir)) {
    const text = Deno.readTextFileSync(new URL(e.name, dir));
    if (e.name !== "broken-syntax.yaml") agree(text);
    else assert.equal(fastParseDocuments(text), undefined);
  }
});

Deno.test("fastParseDocuments declines what it does not handle; the general parser takes it", () => {
  const declined = [
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "a: |\n  text\n",
    "a: >\n  folded\n",
    "a: b\n  c\n",
    "a:\n\tb: 1\n",
    "a: 1\r\n",
    "? complex\n: value\n",
    "%YAML 1.2\n---\na: 1\n",
    "a: 1\na: 2\n",
    "1: x\n",
    'a: "multi\n  line"\n',
    "a: [1,\n  2]\n",
    "a: 'x'y\n",
    "--- a\n",
    "a: 1\n...\n",
    "a: 99999999999999999999\n",
    "a: b: c\n",
  ];
  for (const t of declined) assert.equal(fastParseDocuments(t), undefined, JSON.stringify(t));
  for (const f of hedgehogCrdFiles()) agree(f.text); // block scalars: declined (or equal)
});

Deno.test("fastParseDocuments resolves scalars with the YAML 1.2 core schema like the yaml package", () => {
  const scalars = [
    "x",
    "1",
    "-1",
    "+1",
    "0755",
    "1.5",
    ".5",
    "1.",
    "1e3",
    "-1E-2",
    "0o17",
    "0x1F",
    "0x",
    ".inf",
    "-.Inf",
    ".nan",
    "~",
    "null",
    "Null",
    "NULL",
    "true",
    "True",
    "FALSE",
    "yes",
    "on",
    "1_000",
    "12:30",
    "2024-01-01",
    "-0",
    "a b",
    "a#b",
    "a:b",
    "10.0.0.0/16",
    "E1/1",
    "'q'",
    '"d\\n\\u0041"',
    "''",
    '""',
    "'it''s'",
    "[]",
    "{}",
    "[a, 'b', 1]",
    "{a: 1, 'b c': [x, {d: e}]}",
    "x # comment",
    "'x' # c",
    "[a, b] # c",
  ];
  for (const s of scalars) {
    assert.ok(agree(`k: ${s}\n`), s);
    assert.ok(agree(`- ${s}\n`), s);
  }
});

Deno.test("fastParseDocuments: document boundaries, indices and texts", () => {
  const text = "# head\n---\na: 1\n---\n# only a comment\n---\n- x\n- y: 1\n  z: [2]\n---\n";
  assert.ok(agree(text));
  const docs = fastParseDocuments(text)!;
  assert.deepEqual(docs.map((d) => d.index), [0, 2]);
  assert.equal(docs[0].text, "# head\n---\na: 1\n");
  assert.equal(docs[1].text, "---\n- x\n- y: 1\n  z: [2]\n");
  assert.ok(agree("a: 1\n---\nb: 2\n"));
  assert.ok(agree("key:\n- a\n- b\nother:\n  - c\n"));
  assert.ok(agree("a:\nb: ~\nc:\n  # comment\n  d: 1\n"));
  assert.ok(agree("list:\n  -\n    a: 1\n  - b\n"));
  assert.ok(agree("- - a\n  - b\n- - - c\n"));
});

Deno.test("fastParseDocuments agrees on random block documents", () => {
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const atoms = [
    "x",
    "1",
    "a b",
    "10.0.0.1/24",
    "'q x'",
    '"d"',
    "true",
    "~",
    "[1, a]",
    "{k: v}",
    "-3.5",
    "E1/2",
    "a:b",
  ];
  const gen = (depth: number, indent: string): string => {
    const n = 1 + rnd(3);
    let out = "";
    const seqMode = rnd(2) === 0;
    for (let i = 0; i < n; i++) {
      const lead = seqMode ? `${indent}- ` : `${indent}k${i}: `;
      if (depth > 0 && rnd(2) === 0) {
        if (seqMode) {
          out += `${indent}- k: ${atoms[rnd(atoms.length)]}\n${indent}  n:\n${
            gen(depth - 1, `${indent}    `)
          }`;
        } else out += `${indent}k${i}:\n${gen(depth - 1, `${indent}  `)}`;
      } else out += `${lead}${atoms[rnd(atoms.length)]}\n`;
    }
    return out;
  };
  for (let i = 0; i < 500; i++) {
    const text = `${gen(3, "")}---\n${gen(2, "")}`;
    assert.ok(agree(text), text);
  }
});

Deno.test("fastParseDocuments never disagrees on mutated files (declining is fine)", () => {
  let seed = 11;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const chars = " :-#'\"[]{},&*!|>?%@`\n\\xyz019.~";
  let accepted = 0;
  for (let i = 0; i < 800; i++) {
    let text = FABRIC_YAML;
    for (let m = 0; m < 1 + rnd(3); m++) {
      const at = rnd(text.length);
      const op = rnd(3);
      const ch = chars[rnd(chars.length)];
      text = op === 0
        ? text.slice(0, at) + ch + text.slice(at)
        : op === 1
        ? text.slice(0, at) + text.slice(at + 1)
        : text.slice(0, at) + ch + text.slice(at + 1);
    }
    const fast = fastParseDocuments(text);
    if (!fast) continue;
    const ref = reference(text);
    assert.notEqual(ref, "error", `fast path accepted text the general parser rejects:\n${text}`);
    assert.deepEqual(fast.map(({ index, value }) => ({ index, value })), ref, text);
    accepted++;
  }
  assert.ok(accepted > 200, `the fast path handled ${accepted} of 800 mutated files`);
});
