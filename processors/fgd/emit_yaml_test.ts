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
