/** The fabrics section of the status page in a real headless Chromium, on the first-run sample fabric. */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { needs } from "../../pipeline/testing/env.ts";
import { launchChromium, startTestGateway } from "../../connectors/gateway/testing.ts";
import { buildFabricServices } from "./service.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";

Deno.test({
  name: "status page: the fabrics section shows the sample fabric's ingestion, and its findings (Chromium)",
  ignore: needs("chromium"),
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-page-" });
    const broker = await createEmbeddedBroker();
    const config = { data_dir: dataDir };
    const deps = testDeps(broker, config);
    const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
    for (const s of fgd.services) await s.start();
    const gw = await startTestGateway({ plugins: [fgd.plugin], broker, config });
    const browser = await launchChromium();
    try {
      await fgd.manager.workers.get("dc1")!.trigger("test").done;
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(gw.url);
      const section = page.locator("#section-fabrics");
      await section.getByText("dc1", { exact: true }).waitFor({ timeout: 10_000 });
      const text = await section.innerText();
      assert.match(text, /Fabric GitOps directories/);
      assert.match(text, /\b10\b/, "managed objects");
      assert.match(text, /\b3\b/, "unmanaged files");
      assert.match(text, /Invalid in managed\//, "the invalid-managed column");
      // Every finding of the fabric, one row each, saying what happens to the file.
      const findings = page.locator("#section-fabric-findings");
      await findings.getByText("in unmanaged/: not ingested").first().waitFor({ timeout: 10_000 });
      const rows = await findings.innerText();
      assert.match(rows, /Fabric findings/);
      assert.match(rows, /unmanaged\/\S+\.yaml/);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await gw.stop();
      for (const s of fgd.services) await s.stop();
      await broker.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
