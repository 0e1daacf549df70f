import assert from "node:assert/strict";
import { benchLine } from "./types.ts";

Deno.test("benchLine() gives every field, null where a figure has none", () => {
  const line = benchLine({
    area: "gateway",
    name: "p99 with one slow client",
    value: 13,
    unit: "ms",
    baseline: { name: "quiet", value: 12 },
    ratio: 1.08,
    target: "< 1.10",
    pass: true,
  });
  assert.deepEqual(JSON.parse(JSON.stringify(line)), {
    bench: "gateway: p99 with one slow client",
    value: 13,
    unit: "ms",
    baseline: { name: "quiet", value: 12 },
    ratio: 1.08,
    target: "< 1.10",
    pass: true,
  });
  assert.deepEqual(benchLine({ name: "x", value: 1, unit: "ms" }), {
    bench: "x",
    value: 1,
    unit: "ms",
    baseline: null,
    ratio: null,
    target: null,
    pass: null,
  });
});
