/**
 * The status page in a real headless Chromium: layers, alerts, a plugin section, the live feed (an event
 * arrives within 2 s of being produced), pause and filter.
 */
import "../../pipeline/testing/test_topics.ts";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { needs } from "../../pipeline/testing/env.ts";
import type { SyncStatus } from "../../schemas/sync_status.ts";
import type { Alert } from "../../schemas/alerts.ts";
import type { GatewayPlugin } from "./plugin.ts";
import { launchChromium, startTestGateway } from "./testing.ts";

const STATUS = "lz.sync.status.v1";
const ALERTS = "lz.alerts.v1";
const COUNTS = "lz.test.counts.v1";
const EVENTS = "lz.test.events.v1";

const plugin: GatewayPlugin = {
  name: "page-test",
  compactedTopics: [STATUS, ALERTS, COUNTS],
  eventTopics: [EVENTS],
  statusSections: [{
    id: "counts",
    title: "Counts",
    source: "/api/v1/test/counts",
    path: "items",
    render: "table",
    columns: [{ key: "id", label: "Entity" }, { key: "count", format: "number" }],
    refreshOn: [COUNTS],
  }],
  routes(app, ctx) {
    app.get(
      "/api/v1/sync/sync-status",
      ctx.requireScope("read"),
      (c) => c.json({ layers: [...ctx.view<SyncStatus>(STATUS).values()] }),
    );
    app.get(
      "/api/v1/sync/alerts",
      ctx.requireScope("read"),
      (c) => c.json({ alerts: [...ctx.view<Alert>(ALERTS).values()].filter((a) => a.state === "open") }),
    );
    app.get(
      "/api/v1/test/counts",
      ctx.requireScope("read"),
      (c) => c.json({ items: [...ctx.view(COUNTS).values()] }),
    );
  },
};

const stats = { last: null, p95: null, max: null, count: 0 };
function status(layer: SyncStatus["layer"], s: SyncStatus["status"], items: number): SyncStatus {
  const now = new Date().toISOString();
  return {
    layer,
    status: s,
    enabled: true,
    last_sync: new Date(Date.now() - 90_000).toISOString(),
    last_attempt: now,
    last_error: null,
    items_synced: items,
    items_total: items,
    errors: 0,
    consecutive_failures: 0,
    next_sync: new Date(Date.now() + 3_600_000).toISOString(),
    freshness_seconds: 90,
    latency_seconds: { source_to_materialized: stats, receipt_to_materialized: stats },
    success_rate: 1,
    attempts: 1,
    window: "1h",
    computed_at: now,
  };
}

const text = (page: Page, sel: string) => page.locator(sel).innerText();

Deno.test({
  name: "status page: layers, alerts, plugin sections and a live event within 2 s; pause and filter",
  ignore: needs("chromium"),
  fn: async () => {
    const t = await startTestGateway({ plugins: [plugin] });
    const browser = await launchChromium();
    try {
      await t.produce(STATUS, "git", status("git", "ok", 42));
      await t.produce(STATUS, "webhook", status("webhook", "ok", 3));
      await t.produce(ALERTS, "SyncLatency:git", {
        id: "SyncLatency:git",
        type: "SyncLatency",
        layer: "git",
        state: "open",
        severity: "warning",
        message: "last sync took 412 s (limit 300 s)",
        value: 412,
        threshold: 300,
        opened_at: new Date().toISOString(),
        resolved_at: null,
        updated_at: new Date().toISOString(),
      });
      await t.produce(COUNTS, "alpha", { id: "alpha", count: 1 });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(t.url);

      await page.locator('#layers tr[data-layer="git"]').waitFor({ timeout: 5_000 });
      assert.match(
        await text(page, '#layers tr[data-layer="git"]'),
        /^git\s+ok\s+1m ago\s+1m\s+42\s+0\s+in (59m|1h)/,
      );
      await page.locator('#layers tr[data-layer="webhook"]').waitFor();
      assert.match(await text(page, "#alerts"), /SyncLatency.*\[git\].*412 s/);
      assert.match(await text(page, "#commit"), /no git sync source is loaded/);
      await page.locator("#section-counts td", { hasText: "alpha" }).waitFor({ timeout: 5_000 });
      await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5_000 });

      // A live event reaches the feed within 2 s of being produced.
      const t0 = performance.now();
      await t.produce(EVENTS, "e1", { id: "e1", n: 7 });
      await page.locator('#feed li[data-key="e1"]').waitFor({ timeout: 2_000 });
      const ms = performance.now() - t0;
      assert.ok(ms < 2_000, `event on the page after ${ms.toFixed(0)} ms`);

      // A status change re-renders the layer; a count change refreshes the plugin section.
      await t.produce(STATUS, "git", status("git", "degraded", 43));
      await page.locator('#layers tr[data-layer="git"] .badge[data-state="degraded"]').waitFor({
        timeout: 2_000,
      });
      await t.produce(COUNTS, "alpha", { id: "alpha", count: 1234 });
      await page.locator("#section-counts td", { hasText: "1,234" }).waitFor({ timeout: 2_000 });

      // Pause holds new events back; resume shows them.
      await page.click("#pause");
      await t.produce(EVENTS, "e2", { id: "e2", n: 8 });
      await page.locator("#feed-status", { hasText: "paused · 1 new" }).waitFor({ timeout: 2_000 });
      assert.equal(await page.locator('#feed li[data-key="e2"]').count(), 0);
      await page.click("#pause");
      await page.locator('#feed li[data-key="e2"]').waitFor({ timeout: 2_000 });

      // The filter hides what does not match.
      await page.fill("#text-filter", "e1");
      assert.equal(await page.locator('#feed li[data-key="e2"]').isHidden(), true);
      assert.equal(await page.locator('#feed li[data-key="e1"]').isVisible(), true);
      await page.selectOption("#topic-filter", STATUS);
      assert.equal(await page.locator('#feed li[data-key="e1"]').isHidden(), true);
      assert.deepEqual(errors, [], "no script errors");
    } finally {
      await browser.close();
      await t.stop();
    }
  },
});

Deno.test({
  name:
    "status page: when reads need a token the badge says 'needs a token', then goes live once one is entered",
  ignore: needs("chromium"),
  fn: async () => {
    const t = await startTestGateway({
      plugins: [plugin],
      env: { LZSYNC_TOKEN: "page-Secret-0001" },
      config: { gateway: { anonymous_reads: "never" } },
    });
    const browser = await launchChromium();
    try {
      await t.produce(STATUS, "git", status("git", "ok", 42));
      const page = await browser.newPage();
      await page.goto(t.url);
      await page.locator('#conn[data-state="auth"]').waitFor({ timeout: 5_000 });
      assert.equal(await text(page, "#conn"), "needs a token");
      assert.equal(await page.locator("#token-form").isVisible(), true);
      await page.waitForTimeout(1500);
      assert.equal(await text(page, "#conn"), "needs a token", "no 'reconnecting' loop while it waits");
      await page.fill("#token", "page-Secret-0001");
      await page.press("#token", "Enter");
      await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5_000 });
      await page.locator('#layers tr[data-layer="git"]').waitFor({ timeout: 5_000 });
    } finally {
      await browser.close();
      await t.stop();
    }
  },
});
