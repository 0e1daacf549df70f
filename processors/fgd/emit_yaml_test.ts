import assert from "node:assert/strict";
import { parse } from "yaml";
import { emitYaml, yamlString } from "./emit_yaml.ts";
import { fabricObjects } from "./testdata/mod.ts";

Deno.test("emitYaml round-trips every sample object through the yaml parser (1.2 and 1.1)", () => {
  for (const o of fabricObjects()) {
    const text = emitYaml(o);
    assert.deepEqual(parse(text), o);
    assert.deepEqual(parse(text, { version: "1.1" }), o);
  }
});

Deno.test("emitYaml writes block style with indented sequences and empty collections inline", () => {
  const text = emitYaml({ a: { b: [1, { c: "x", d: [] }], e: {} }, f: [[1, 2]], g: null });
  assert.equal(text, "a:\n  b:\n    - 1\n    - c: x\n      d: []\n  e: {}\nf:\n  - - 1\n    - 2\ng: null\n");
  assert.deepEqual(parse(text), { a: { b: [1, { c: "x", d: [] }], e: {} }, f: [[1, 2]], g: null });
});

Deno.test("yamlString keeps plain only what every reader reads back as the same string", () => {
  for (const s of ["vpc-1", "E1/1", "10.0.1.0/24", "65102:5000", "Virtual Switch", "a.b", "4x25G"]) {
    assert.equal(yamlString(s), s);
  }
  for (
    const s of [
      "",
      "yes",
      "On",
      "0755",
      "1_000",
      "12:30",
      "1e3",
      "0x1F",
      "0o17",
      ".inf",
      "2024-01-01",
      "-",
      "a: b",
      "a #b",
      "x:",
      " lead",
      "trail ",
      "*ref",
      "&a",
      "!tag",
      "@x",
      "`x",
      "{a}",
      "[a]",
      "'q'",
      '"q"',
      "%x",
      "|",
      ">",
      "multi\nline",
      "tab\tx",
      "ü",
    ]
  ) {
    assert.equal(yamlString(s), JSON.stringify(s), s);
  }
});

Deno.test("emitYaml round-trips random strings, keys and numbers", () => {
  const alphabet = "aZ09 -_:./#@!&*%|>'\"\\{}[],?=~\n\tü€";
  let seed = 42;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let i = 0; i < 2000; i++) {
    const s = Array.from({ length: rnd(8) }, () => alphabet[rnd(alphabet.length)]).join("");
    const v = { [s || "k"]: [s, rnd(1000) - 500, rnd(2) === 0, rnd(100) / 7] };
    assert.deepEqual(parse(emitYaml(v)), v, JSON.stringify(s));
  }
});

Deno.test("yamlString's shortcuts (one plain pattern, ambiguous patterns as one alternation, tested only on strings one can match) change no result", () => {
  // the quoting rule as first written: every check and every pattern on every string
  const PLAIN = /^[A-Za-z0-9_./][A-Za-z0-9 _./:@+=,()<>-]*$/;
  const AMBIGUOUS = [
    /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE|null|Null|NULL|=|<<)$/,
    /^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$/,
    /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$/,
    /^[-+]?0(b[01_]+|o[0-7]+|x[0-9a-fA-F_]+)$/,
    /^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/,
    /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/,
  ];
  const reference = (s: string) =>
    s.length > 0 && PLAIN.test(s) && !s.endsWith(" ") && !s.endsWith(":") && !s.includes(": ") &&
      !s.includes(" #") && !AMBIGUOUS.some((r) => r.test(s))
      ? s
      : JSON.stringify(s);
  const alphabet = "aAyYnNoOtTfFeEx0129_./:-+=<> #@";
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const words = [
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "Null",
    "=",
    "<<",
    ".inf",
    "-.NaN",
    "0x1F",
    "0o17",
    "0b101",
    "1_000",
    "12:30",
    "1e3",
    "2024-01-01",
    "+.5",
    "-1",
    "y",
    "n",
    "t",
    "f",
    "o",
  ];
  for (let i = 0; i < 20000; i++) {
    const s = i < words.length
      ? words[i]
      : Array.from({ length: 1 + rnd(7) }, () => alphabet[rnd(alphabet.length)]).join("");
    assert.equal(yamlString(s), reference(s), JSON.stringify(s));
    assert.equal(emitYaml({ [s]: s }), `${reference(s)}: ${reference(s)}\n`, JSON.stringify(s));
  }
});
