/**
 * The browser test: push a commit to the test git server, deliver the signed webhook, and see the
 * new commit on the gateway's status page in a real headless Chromium within 2 s.
 */
import assert from "node:assert/strict";
import { needs } from "../../pipeline/testing/env.ts";
import { launchChromium } from "../../connectors/gateway/testing.ts";
import { STACK_REPO, startGitStack } from "./testing.ts";

Deno.test({
  name: "status page shows a pushed commit within 2 s of the signed webhook (Chromium, git smart-HTTP)",
  ignore: needs("chromium"),
  fn: async () => {
    const s = await startGitStack();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(s.gw.url);
      await page.locator(`#commit [data-sha="${s.first}"]`).waitFor({ timeout: 10_000 });
      await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5_000 });
      await page.locator('#layers tr[data-layer="git"] .badge[data-state="ok"]').waitFor({ timeout: 5_000 });

      const sha = await s.git.commitAndPush(
        STACK_REPO,
        { "docs/index.md": "# Landing Zone, edited\n" },
        "docs: edit",
      );
      const t0 = performance.now();
      const r = await s.deliverPush(sha, { paths: ["docs/index.md"] });
      assert.equal(r.status, 202);
      await page.locator(`#commit [data-sha="${sha}"]`).waitFor({ timeout: 2_000 });
      const ms = performance.now() - t0;
      assert.ok(ms < 2_000, `commit on the page ${ms.toFixed(0)} ms after the webhook was sent`);
      assert.match(await page.locator("#commit").innerText(), /docs: edit/);
      assert.deepEqual(errors, []);
      console.log(`webhook → commit on the status page: ${ms.toFixed(0)} ms`);
    } finally {
      await browser.close();
      await s.stop();
    }
  },
});
