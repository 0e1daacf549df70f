import assert from "node:assert/strict";
import { BodyPool } from "./body_pool.ts";

const limits = { maxNodes: 100_000, maxDepth: 64, maxAliases: 100 };
const big = Array.from({ length: 40_000 }, (_, i) => `k${i}: v${i}`).join("\n");

Deno.test("BodyPool parses in a worker, answers 503 beyond its queue and 413 past its timeout", async () => {
  const pool = new BodyPool({ workers: 1, maxQueued: 0, timeoutMs: 10_000, limits });
  try {
    const [first, second] = await Promise.all([
      pool.parse(big, "text/yaml"),
      pool.parse("a: 1", "text/yaml"),
    ]);
    assert.equal(first.ok, true);
    assert.equal(second.ok, false);
    assert.equal(!second.ok && second.status, 503);
    assert.match(!second.ok ? second.reason : "", /too many write bodies at once/);
    assert.deepEqual(await pool.parse('{"a": [1]}', "application/json"), {
      ok: true,
      value: { a: [1] },
      nodes: 3,
      depth: 2,
    });
    assert.equal(pool.timings.length, 2);
  } finally {
    pool.close();
  }
  const slow = new BodyPool({ workers: 1, maxQueued: 4, timeoutMs: 5, limits });
  try {
    const t = await slow.parse(big, "text/yaml");
    assert.equal(!t.ok && t.status, 413);
    assert.match(!t.ok ? t.reason : "", /took longer than 5 ms to parse/);
  } finally {
    slow.close();
  }
});
