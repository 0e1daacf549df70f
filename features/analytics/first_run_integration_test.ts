/**
 * Layer 5 on a first run, as an analyst meets it: `deno task start` with nothing configured writes the
 * DuckDB tables under the data directory from the sample Landing Zone (assets, violations, scores, costs);
 * while it runs, `lzsync sql` goes through the running process (the file is locked) and the HTTP named
 * queries answer; after it stops, the Parquet export is there and `lzsync sql` opens the file itself.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort } from "../../pipeline/testing/free_port.ts";
import { runLzsync, startLzsync } from "../../pipeline/testing/lzsync_process.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";

Deno.test("first run: DuckDB analytics from the sample, lzsync sql while running and after, Parquet at stop", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-analytics-run-" });
  const data = join(dir, "data");
  const env = { LZSYNC_DATA_DIR: data, LZSYNC_PORT: String(freePort()) };
  const lz = await startLzsync(env);
  const count = async (sql: string) => {
    const r = await runLzsync(["sql", sql, "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout)[0].n as number;
  };
  try {
    await waitFor(
      async () =>
        (await count(`SELECT COUNT(*) AS n FROM raw_lz_billing_costs_v1`)) === 210 &&
        (await count(`SELECT COUNT(*) AS n FROM assets_history WHERE valid_to IS NULL`)) > 10 &&
        (await count(`SELECT COUNT(*) AS n FROM violations_history WHERE valid_to IS NULL`)) > 0,
      "the sample's assets, violations and costs in DuckDB",
      60_000,
    );
    const res = await fetch(`${lz.url}/api/v1/analytics/query?name=cost_by_service&date=2026-11-28&days=30`);
    assert.equal(res.status, 200);
    const rows = (await res.json()).rows as { service: string; cost: number }[];
    assert.ok(rows.some((r) => r.service === "Compute Engine" && r.cost > 0), JSON.stringify(rows));
  } finally {
    assert.equal(await lz.stop(), 0, lz.stderr());
  }
  const files = [...Deno.readDirSync(join(data, "analytics"))].map((e) => e.name);
  assert.ok(
    files.includes("daily_metrics.parquet") && files.includes("assets_history.parquet"),
    String(files),
  );
  const after = await runLzsync([
    "sql",
    `SELECT (SELECT COUNT(*) FROM raw_lz_billing_costs_v1) AS n,
            (SELECT COUNT(*) FROM '${join(data, "analytics", "raw_lz_billing_costs_v1.parquet")}') AS p`,
    "--json",
  ], env);
  assert.equal(after.code, 0, after.stderr);
  assert.deepEqual(JSON.parse(after.stdout), [{ n: 210, p: 210 }]);
  await Deno.remove(dir, { recursive: true });
});
