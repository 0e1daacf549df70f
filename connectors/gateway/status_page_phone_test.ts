/**
 * The status page on a phone (390×844, Chromium): table rows are cards of label/value lines, nothing scrolls
 * sideways, the key columns (violation message; items, errors, next sync) are on screen, rule ids unbroken.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { needs } from "../../pipeline/testing/env.ts";
import { launchChromium, startTestGateway } from "./testing.ts";
import { gitSyncPlugin } from "../../features/git_sync/plugin.ts";
import { infraGatewayPlugin } from "../../features/infrastructure/plugin.ts";
import type { SyncStatus } from "../../schemas/sync_status.ts";
import type { Violation } from "../../schemas/violations.ts";

const now = new Date().toISOString();
const stats = { last: null, p95: null, max: null, count: 0 };
const git: SyncStatus = {
  layer: "git",
  status: "ok",
  enabled: true,
  last_sync: now,
  last_attempt: now,
  last_error: null,
  items_synced: 1234,
  items_total: 1234,
  errors: 0,
  consecutive_failures: 0,
  next_sync: new Date(Date.now() + 6 * 3600_000).toISOString(),
  freshness_seconds: 0,
  latency_seconds: { source_to_materialized: stats, receipt_to_materialized: stats },
  success_rate: 1,
  attempts: 1,
  window: "1h",
  computed_at: now,
};
const RULE = "cis-gcp-5.1-bucket-public";
const violation: Violation = {
  type: "policy_violated",
  id: `${RULE}|//storage.googleapis.com/web-prod-static-assets`,
  state: "open",
  rule_id: RULE,
  title: "Bucket is public",
  severity: "critical",
  benchmarks: ["CIS GCP 5.1"],
  asset_name: "//storage.googleapis.com/web-prod-static-assets",
  asset_type: "storage.googleapis.com/Bucket",
  project: "web-prod",
  message: "allUsers can read objects of this bucket; remove allUsers and allAuthenticatedUsers bindings",
  source: "policy",
  first_seen: now,
  last_seen: now,
  resolved_at: null,
  resolution: null,
};

/** The cell labelled `label` in `row`: on screen, inside the 390 px viewport. */
async function onScreen(page: Page, row: string, label: string) {
  const cell = page.locator(`${row} td[data-label="${label}"]`).first();
  assert.equal(await cell.isVisible(), true, `${label} visible`);
  const box = (await cell.boundingBox())!;
  assert.ok(
    box.x >= 0 && box.x + box.width <= 390 + 0.5,
    `${label} inside the screen (${box.x}+${box.width})`,
  );
  return cell;
}

Deno.test({
  name: "status page at 390×844: cards, no sideways scroll, key columns on screen, rule ids not broken",
  ignore: needs("chromium"),
  fn: async () => {
    const t = await startTestGateway({ plugins: [gitSyncPlugin(), infraGatewayPlugin()] });
    const browser = await launchChromium();
    try {
      await t.produce("lz.sync.status.v1", "git", git);
      await t.produce("lz.violations.v1", violation.id, violation);
      const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(t.url);
      await page.locator('#layers tr[data-layer="git"]').waitFor({ timeout: 5_000 });
      await page.locator("#section-infra-violations td", { hasText: RULE }).waitFor({ timeout: 5_000 });

      const doc = await page.evaluate(() => ({
        scrollW: (globalThis as any).document.documentElement.scrollWidth,
        clientW: (globalThis as any).document.documentElement.clientWidth,
      }));
      assert.ok(
        doc.scrollW <= doc.clientW,
        `the page does not scroll sideways (${doc.scrollW} > ${doc.clientW})`,
      );
      assert.equal(await page.locator("#layers thead").isVisible(), false, "cards, not a table header");

      const layer = '#layers tr[data-layer="git"]';
      const items = await onScreen(page, layer, "Items");
      assert.equal(await items.innerText(), "1,234");
      assert.equal(
        await items.evaluate((e) => (globalThis as any).getComputedStyle(e, "::before").content),
        '"Items"',
        "each value carries its label",
      );
      assert.equal(await (await onScreen(page, layer, "Errors")).innerText(), "0");
      assert.match(await (await onScreen(page, layer, "Next sync")).innerText(), /^in (5h|6h)/);

      const v = "#section-infra-violations tbody tr";
      assert.match(await (await onScreen(page, v, "message")).innerText(), /allUsers can read objects/);
      const rule = await onScreen(page, v, "rule");
      // The rule id sits on one line: its card line is no taller than one line of text.
      const lines = await rule.evaluate((e) => {
        const lh = parseFloat((globalThis as any).getComputedStyle(e).lineHeight) || 18;
        return e.getBoundingClientRect().height / lh;
      });
      assert.ok(lines < 1.5, `rule id on one line (${lines.toFixed(2)} lines)`);
      assert.equal(await rule.innerText(), RULE);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await t.stop();
    }
  },
});
