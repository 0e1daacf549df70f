import assert from "node:assert/strict";
import { type BodyLimits, parseBody } from "./body_parse.ts";

const limits: BodyLimits = { maxNodes: 1000, maxDepth: 16, maxAliases: 10 };

Deno.test("parseBody() reads one YAML object and a JSON object within the caps", () => {
  const y = parseBody("a: 1\nb: [x, y]\nc: {d: e}\n", "application/yaml", limits);
  assert.deepEqual(y, { ok: true, value: { a: 1, b: ["x", "y"], c: { d: "e" } }, nodes: 11, depth: 2 });
  const j = parseBody('{"a": [1, {"b": 2}]}', "application/json", limits);
  assert.equal(j.ok, true);
  assert.deepEqual(j.ok && j.value, { a: [1, { b: 2 }] });
});

Deno.test("parseBody() refuses too many nodes, too deep a nesting and too many aliases with 413", () => {
  const many = Array.from({ length: 600 }, (_, i) => `k${i}: v`).join("\n");
  const r1 = parseBody(many, "application/yaml", limits);
  assert.equal(r1.ok, false);
  assert.equal(!r1.ok && r1.status, 413);
  assert.match(!r1.ok ? r1.reason : "", /more than 1000 YAML\/JSON nodes \(gateway\.max_yaml_nodes\)/);
  const deep = "a:\n" + Array.from({ length: 20 }, (_, i) => `${"  ".repeat(i + 1)}k${i}:`).join("\n") +
    " x\n";
  const r2 = parseBody(deep, "text/yaml", limits);
  assert.match(!r2.ok ? r2.reason : "", /deeper than 16 levels \(gateway\.max_yaml_depth\)/);
  const flow = "[".repeat(100_000) + "]".repeat(100_000); // would overflow a recursive composer's stack
  const r3 = parseBody(flow, "text/yaml", limits);
  assert.equal(!r3.ok && r3.status, 413);
  assert.match(!r3.ok ? r3.reason : "", /deeper than 16/);
  const jdeep = "[".repeat(100_000) + "]".repeat(100_000);
  const r4 = parseBody(jdeep, "application/json", limits);
  assert.match(!r4.ok ? r4.reason : "", /deeper than 16/);
  const aliases = "a: &x [1]\n" + Array.from({ length: 12 }, (_, i) => `b${i}: *x`).join("\n");
  const r5 = parseBody(aliases, "text/yaml", limits);
  assert.match(!r5.ok ? r5.reason : "", /more than 10 YAML aliases \(gateway\.max_yaml_aliases\)/);
  // Billion laughs within the alias count: the expansion cap answers.
  const laughs = [
    "a: &a [x, x, x, x, x, x, x, x, x, x]",
    "b: &b [*a, *a, *a]",
    "c: &c [*b, *b, *b]",
    "d: [*c, *c, *c]",
  ].join("\n");
  const r6 = parseBody(laughs, "text/yaml", { ...limits, maxAliases: 9 });
  assert.equal(!r6.ok && r6.status, 413, JSON.stringify(r6));
  assert.match(!r6.ok ? r6.reason : "", /aliases expand too far/);
});

Deno.test("parseBody() answers 400 to bad YAML, duplicate keys and a second document", () => {
  const r1 = parseBody("a: [1, 2\n", "text/yaml", limits);
  assert.equal(!r1.ok && r1.status, 400);
  assert.match(!r1.ok ? r1.reason : "", /not valid JSON or YAML/);
  const r2 = parseBody("a: 1\nb: 2\na: 3\n", "text/yaml", limits);
  assert.match(!r2.ok ? r2.reason : "", /duplicate key "a"/);
  const r3 = parseBody("a: 1\n---\nb: 2\n", "text/yaml", limits);
  assert.match(!r3.ok ? r3.reason : "", /more than one YAML document/);
  const r4 = parseBody("{nope", "application/json", limits);
  assert.equal(!r4.ok && r4.status, 400);
});

Deno.test("parseBody() is linear in the number of keys (the yaml package's own unique-key check is not)", () => {
  const big = { maxNodes: 1_000_000, maxDepth: 64, maxAliases: 100 };
  const time = (n: number) => {
    const text = Array.from({ length: n }, (_, i) => `k${i}: v${i}`).join("\n");
    const t0 = performance.now();
    const r = parseBody(text, "text/yaml", big);
    assert.equal(r.ok, true);
    return performance.now() - t0;
  };
  time(2000); // warm up
  const small = time(8000), large = time(64_000);
  // Quadratic would be 64×; linear 8× (allow noise on a shared machine).
  assert.ok(large < small * 24, `8k keys ${small.toFixed(0)} ms, 64k keys ${large.toFixed(0)} ms`);
  console.log(`parse 8k keys ${small.toFixed(0)} ms, 64k keys ${large.toFixed(0)} ms`);
});
