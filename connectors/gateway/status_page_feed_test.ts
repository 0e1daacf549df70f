/**
 * The live activity feed in a real headless Chromium: events read as sentences linked to their object, and
 * the feed sits near the top of the page (above the plugin sections), not below every violation.
 */
import assert from "node:assert/strict";
import { needs } from "../../pipeline/testing/env.ts";
import type { GatewayPlugin } from "./plugin.ts";
import { launchChromium, startTestGateway } from "./testing.ts";
import { gitSyncPlugin } from "../../features/git_sync/plugin.ts";
import { infraGatewayPlugin } from "../../features/infrastructure/plugin.ts";
import type { GitFile } from "../../schemas/git_files.ts";
import type { Violation } from "../../schemas/violations.ts";

const FILES = "lz.git.files.v1";
const VIOLATIONS = "lz.violations.v1";
const SHA = "51dfa5c0123456789abcdef0123456789abcdef0";
const now = new Date().toISOString();

const plugin: GatewayPlugin = {
  name: "feed-test",
  statusSections: [{
    id: "below",
    title: "Below",
    source: "/api/v1/test/none",
    path: "rows",
    render: "table",
    wide: true,
    columns: [{ key: "id" }],
  }],
  routes(app) {
    app.get("/api/v1/test/none", (c) => c.json({ rows: [] }));
  },
};

const file: GitFile = {
  kind: "file",
  repo: "acme/lz",
  path: "docs/README.md",
  commit: SHA,
  commit_time: now,
  size: 12,
  blob_sha: SHA,
  mode: "100644",
  change: "modified",
  content: "# Landing\n",
  encoding: "utf-8",
  content_ref: null,
  sync_id: "s1",
  synced_at: now,
};
const violation: Violation = {
  type: "policy_violated",
  id: "cis-gcp-5.1-bucket-public|//storage.googleapis.com/web-prod-static-assets",
  state: "open",
  rule_id: "cis-gcp-5.1-bucket-public",
  title: "Bucket is public",
  severity: "critical",
  benchmarks: ["CIS GCP 5.1"],
  asset_name: "//storage.googleapis.com/web-prod-static-assets",
  asset_type: "storage.googleapis.com/Bucket",
  project: "web-prod",
  message: "allUsers can read the bucket",
  source: "policy",
  first_seen: now,
  last_seen: now,
  resolved_at: null,
  resolution: null,
};

Deno.test({
  name: "status page feed: sentences with links to the object, above the plugin sections",
  ignore: needs("chromium"),
  fn: async () => {
    const t = await startTestGateway({
      plugins: [gitSyncPlugin(), infraGatewayPlugin(), plugin],
      config: {
        landing_zone: { repo: "https://example.com/acme/lz.git", github: { owner: "acme", repo: "lz" } },
      },
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(t.url);
      await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5_000 });
      await t.produce(FILES, "acme/lz:docs/README.md", file);
      await t.produce(VIOLATIONS, violation.id, violation);

      const doc = page.locator('#feed li[data-topic="lz.git.files.v1"] a.what');
      await doc.waitFor({ timeout: 2_000 });
      assert.equal(await doc.innerText(), "docs/README.md changed in 51dfa5c");
      assert.equal(await doc.getAttribute("href"), "/api/v1/docs/README.md");
      const res = await fetch(new URL((await doc.getAttribute("href"))!, t.url));
      assert.equal(res.status, 200, "the link leads to the synced file");
      await res.body?.cancel();

      const v = page.locator('#feed li[data-topic="lz.violations.v1"] a.what');
      await v.waitFor({ timeout: 2_000 });
      assert.equal(
        await v.innerText(),
        "bucket web-prod-static-assets: cis-gcp-5.1-bucket-public opened — allUsers can read the bucket",
      );
      assert.match(
        (await v.getAttribute("href"))!,
        /^\/api\/v1\/violations\?rule=cis-gcp-5\.1-bucket-public/,
      );
      assert.equal(await page.locator("#feed li .data").first().isVisible(), false, "fields one click away");

      const feedTop = (await page.locator("#section-feed").boundingBox())!.y;
      const belowTop = (await page.locator("#section-below").boundingBox())!.y;
      assert.ok(feedTop < belowTop, `feed (${feedTop}) above the plugin sections (${belowTop})`);
      assert.ok(feedTop < 900, "the feed starts on the first screen");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await t.stop();
    }
  },
});
