/**
 * The infrastructure sections of the status page in a real headless Chromium, on the first-run sample:
 * resources, the compliance score and open violations render, and a new violation from a real-time event
 * appears live (within 2 s) without a reload.
 */
import assert from "node:assert/strict";
import { needs } from "../../pipeline/testing/env.ts";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import type { Service } from "../../pipeline/service.ts";
import { launchChromium, startTestGateway } from "../../connectors/gateway/testing.ts";
import { buildInfraServices } from "./mod.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";

Deno.test({
  name: "status page: resources, compliance score and open violations; a new violation appears live",
  ignore: needs("chromium"),
  fn: async () => {
    const broker = await createEmbeddedBroker();
    const deps = testDeps(broker);
    const infra = buildInfraServices(deps);
    const running: Service[] = [];
    const gw = await startTestGateway({ plugins: [infra.plugin], broker });
    const browser = await launchChromium();
    try {
      for (const t of infra.topologies) {
        const h = createProcessorHost({ broker, log: silentLogger }, t, { tickMs: 50 });
        await h.start();
        running.push(h);
      }
      for (const s of infra.services) {
        await s.start();
        running.push(s);
      }
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(gw.url);
      // The first state (a whole sample snapshot through assets, policy and the score topology) is not the
      // latency promise (that is the live violation below, within 2 s): on a loaded machine it may take long.
      const FIRST = 30_000;
      await page.locator("#section-infra-resources td", { hasText: "vms" }).first().waitFor({
        timeout: FIRST,
      });
      await page.locator("#section-infra-compliance .score").waitFor({ timeout: FIRST });
      await page.locator("#section-infra-compliance .score", { hasText: "%" }).waitFor({ timeout: FIRST });
      const score = await page.locator("#section-infra-compliance .score").innerText();
      const n = Number(score.replace("%", ""));
      assert.ok(n > 0 && n < 100, `score shown: ${score}`);
      await page.locator("#section-infra-violations td", { hasText: "default-allow-ssh" }).first().waitFor({
        timeout: FIRST,
      });
      await page.locator('#section-infra-violations .badge[data-state="critical"]').first().waitFor();

      // A real-time feed event opens a new violation: the section refreshes by itself.
      const name = "//compute.googleapis.com/projects/web-prod/global/firewalls/rdp-from-anywhere";
      const t0 = Date.now();
      await gw.produce("lz.infra.events.v1", name, {
        type: "asset_feed",
        message_id: "live-1",
        publish_time: new Date().toISOString(),
        subscription: "s",
        asset: {
          name,
          asset_type: "compute.googleapis.com/Firewall",
          project: "web-prod",
          project_number: "100000000002",
          location: "global",
          update_time: new Date().toISOString(),
          ancestors: ["projects/100000000002"],
          resource_parent: null,
          data: {
            name: "rdp-from-anywhere",
            sourceRanges: ["0.0.0.0/0"],
            allowed: [{ IPProtocol: "tcp", ports: ["3389"] }],
          },
        },
        prior_asset: null,
        prior_asset_state: "DOES_NOT_EXIST",
        deleted: false,
        window_start: null,
      });
      await page.locator("#section-infra-violations td", { hasText: "rdp-from-anywhere" }).first().waitFor({
        timeout: 2_000,
      });
      console.log(`live violation on the page after ${Date.now() - t0} ms`);
      assert.ok(Date.now() - t0 <= 2_000);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await browser.close();
      for (const s of running.reverse()) await s.stop();
      await gw.stop();
      await broker.close();
    }
  },
});
