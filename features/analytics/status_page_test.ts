/**
 * The analytics section of the status page in a real headless Chromium: the 90-day trend charts (resources,
 * compliance score, open violations, sync latency per layer, cost) are drawn from the DuckDB tables, with the
 * forecasts and the method stated under them.
 */
import assert from "node:assert/strict";
import { needs } from "../../pipeline/testing/env.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { openDuckDb } from "../../connectors/duckdb/engine.ts";
import {
  assetRecord,
  billingRecord,
  DAY,
  scoreRecord,
  syncEventRecord,
  violationRecord,
} from "../../connectors/duckdb/_fixtures.ts";
import { launchChromium, startTestGateway } from "../../connectors/gateway/testing.ts";
import { analyticsPlugin } from "./plugin.ts";

Deno.test({
  name: "status page: 90-day trend charts with forecasts from the analytics tables",
  ignore: needs("chromium"),
  fn: async () => {
    const db = await openDuckDb({ path: ":memory:", log: silentLogger });
    const start = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) -
      30 * DAY + 12 * 3600_000;
    for (let d = 0; d < 30; d++) {
      for (let k = 0; k < 2; k++) {
        db.add(assetRecord(2 * d + k, `a${2 * d + k}`, "resource_created", start + d * DAY));
      }
      db.add(scoreRecord(d, "overall", 40 + d, start + d * DAY));
      db.add(billingRecord(d, `c${d}`, start + d * DAY, 20 + (d % 7)));
      db.add(syncEventRecord(d, `s${d}`, start + d * DAY, 1 + (d % 5)));
    }
    db.add(violationRecord(0, "a1", "open", start + DAY));
    await db.flush();
    await db.refreshDaily(Date.now());
    const gw = await startTestGateway({ plugins: [analyticsPlugin(() => db)] });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1600 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(gw.url);
      const section = page.locator("#section-analytics-trends");
      // Each chart is drawn when its own series arrives: wait for every one, not only the first.
      for (const id of ["resources", "compliance", "violations", "latency", "cost"]) {
        // polled rather than waitFor(...).catch(): a fresh-clone full run failed here after 1 s with the
        // waitFor's error swallowed; a count() that throws (page gone) now fails with its own message
        const chart = section.locator(`.trend-chart[data-series="${id}"] polyline`);
        for (let i = 0; i < 150 && await chart.count() < 1; i++) await new Promise((r) => setTimeout(r, 100));
        assert.ok(
          await section.locator(`.trend-chart[data-series="${id}"] polyline`).count() >= 1,
          `${id} has no line`,
        );
      }
      const lines = section.locator('.trend-chart[data-series="resources"] polyline');
      for (let i = 0; i < 100 && await lines.count() < 2; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await lines.count(), 2);
      assert.equal(
        await section.locator('.trend-chart[data-series="latency"] polyline').getAttribute("data-label"),
        "git",
      );
      const forecast = await section.locator('.trend-chart[data-series="resources"] .forecast').innerText();
      const m = forecast.match(
        /^(\d{4}-\d{2}-\d{2}): ([\d.,]+) \(([\d.,]+)–([\d.,]+)\);.*trend ([\d.]+)\/day$/,
      );
      assert.ok(m, forecast);
      const [lo, mid, hi, slope] = [m[3], m[2], m[4], m[5]].map(Number);
      assert.ok(lo <= mid && mid <= hi && mid > 60 && Math.abs(slope - 2) < 0.1, forecast);
      assert.match(
        await section.locator('.trend-chart[data-series="cost"] .method').innerText(),
        /least squares over the last 30 daily values/,
      );
      const legend = await section.locator('.trend-chart[data-series="resources"] .legend').innerText();
      assert.match(legend, /resources 60/);
      if (Deno.env.get("LZSYNC_SCREENSHOT")) {
        await section.screenshot({ path: Deno.env.get("LZSYNC_SCREENSHOT")! });
      }
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await browser.close();
      await gw.stop();
      await db.close();
    }
  },
});
