/**
 * The `bigquery` layer in a running lzsync (first-run sample, `layers.bigquery` pointed at goccy/bigquery-
 * emulator): the same tables appear in BigQuery with the sample's rows, and the layer reports its status,
 * items and latency in `/api/v1/sync/sync-status` like every other layer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { needs, requireBigQueryEmulator } from "../../pipeline/testing/env.ts";
import { startBigQueryEmulator } from "../../pipeline/testing/bigquery_emulator.ts";
import { freePort } from "../../pipeline/testing/free_port.ts";
import { startLzsync } from "../../pipeline/testing/lzsync_process.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { bigQueryClient } from "./client.ts";

Deno.test({
  name: "bigquery layer in a running lzsync: sample rows in BigQuery, status ok with items and latency",
  ignore: needs("bigquery"),
  async fn() {
    requireBigQueryEmulator();
    const emu = await startBigQueryEmulator("lzsync-it");
    const dir = await Deno.makeTempDir({ prefix: "lzsync-bq-run-" });
    const config = join(dir, "lzsync.yaml");
    await Deno.writeTextFile(
      config,
      [
        "layers:",
        "  bigquery:",
        "    enabled: true",
        `    project: ${emu.project}`,
        "    dataset: lz_portal",
        "    interval: 2s",
        `    endpoint: ${emu.endpoint}`,
        "",
      ].join("\n"),
    );
    const env = {
      LZSYNC_DATA_DIR: join(dir, "data"),
      LZSYNC_PORT: String(freePort()),
      LZSYNC_CONFIG: config,
    };
    const lz = await startLzsync(env);
    const client = bigQueryClient({ project: emu.project, dataset: "lz_portal", endpoint: emu.endpoint });
    const count = async (table: string) => {
      try {
        const [rows] = await client.query({ query: `SELECT COUNT(*) AS n FROM lz_portal.${table}` });
        return Number(rows[0].n);
      } catch {
        return 0; // not created yet
      }
    };
    try {
      await waitFor(
        async () => (await count("raw_lz_billing_costs_v1")) === 210 && (await count("assets_history")) > 10,
        "the sample's costs and assets in BigQuery",
        90_000,
      );
      let layer: Record<string, unknown> | undefined;
      await waitFor(
        async () => {
          const res = await fetch(`${lz.url}/api/v1/sync/sync-status`);
          const body = await res.json();
          const layers = (Array.isArray(body) ? body : body.layers) as Record<string, unknown>[];
          layer = layers.find((l) => l.layer === "bigquery");
          return layer?.status === "ok" && Number(layer?.items_total ?? 0) > 0;
        },
        "the bigquery layer reported ok",
        30_000,
        () => layer,
      );
      assert.notEqual(layer?.last_sync, null, JSON.stringify(layer));
      assert.equal(layer?.enabled, true);
      assert.ok(layer?.next_sync, JSON.stringify(layer));
      // Lag to BigQuery: from the oldest record a load carried to the end of that export.
      const lat = (layer?.latency_seconds as { source_to_materialized: { max: number | null } })
        .source_to_materialized;
      assert.ok(typeof lat.max === "number" && lat.max >= 0, JSON.stringify(layer));
      assert.equal(await count("raw_lz_billing_costs_v1"), 210, "no duplicate rows after further exports");
    } finally {
      assert.equal(await lz.stop(), 0, lz.stderr());
      await emu.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
