import assert from "node:assert/strict";
import { type DailyPoint, linearForecast } from "./forecast.ts";

const days = (values: number[], start = "2026-11-01"): DailyPoint[] =>
  values.map((value, i) => ({
    date: new Date(Date.parse(`${start}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10),
    value,
  }));

Deno.test("forecast: an exact line is projected exactly, with a zero-width interval", () => {
  const f = linearForecast(days(Array.from({ length: 10 }, (_, i) => 100 + 2 * i)), 30, [7]);
  assert.equal(f.n, 10);
  assert.equal(f.slope_per_day, 2);
  assert.equal(f.r2, 1);
  assert.deepEqual(f.points, [{ date: "2026-11-17", value: 132, low: 132, high: 132 }]);
  assert.match(f.method, /least squares over the last 10 daily values/);
});

Deno.test("forecast: noisy data gets an interval that contains the trend and widens with the horizon", () => {
  const noise = [3, -2, 1, -4, 2, 0, -1, 4, -3, 1, 2, -2, 0, 3, -1, -3, 2, 1, -2, 0];
  const f = linearForecast(days(noise.map((e, i) => 50 + 0.5 * i + e)), 30, [7, 30]);
  assert.ok(Math.abs(f.slope_per_day! - 0.5) < 0.2, String(f.slope_per_day));
  const [a, b] = f.points;
  assert.ok(a.low < a.value && a.value < a.high);
  assert.ok(b.high - b.low > a.high - a.low);
  const truth = 50 + 0.5 * (19 + 7);
  assert.ok(a.low < truth && truth < a.high);
});

Deno.test("forecast: only the last `window` days count, gaps use the real day numbers, and too little data says so", () => {
  const f = linearForecast([...days([1000, 1000, 1000]), ...days([1, 2, 3], "2026-12-01")], 3, [1]);
  assert.equal(f.slope_per_day, 1);
  const gap = linearForecast(
    [{ date: "2026-11-01", value: 0 }, { date: "2026-11-03", value: 2 }, {
      date: "2026-11-11",
      value: 10,
    }],
    30,
    [1],
  );
  assert.equal(gap.slope_per_day, 1);
  const none = linearForecast(days([1, 2]));
  assert.deepEqual([none.points, none.note], [[], "fewer than 3 days of data"]);
  assert.equal(linearForecast(days([5, 5, 5, 5])).r2, null);
});

Deno.test("forecast: projections stay within bounds (a score never above 100)", () => {
  const f = linearForecast(days([90, 94, 98]), 30, [30], [0, 100]);
  assert.deepEqual(f.points.map((p) => [p.value, p.high]), [[100, 100]]);
});
