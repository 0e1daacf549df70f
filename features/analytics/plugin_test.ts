import assert from "node:assert/strict";
import { silentLogger } from "../../pipeline/log.ts";
import { openDuckDb } from "../../connectors/duckdb/engine.ts";
import { startTestGateway } from "../../connectors/gateway/testing.ts";
import {
  assetRecord,
  billingRecord,
  DAY,
  scoreRecord,
  syncEventRecord,
  T0,
  violationRecord,
} from "../../connectors/duckdb/_fixtures.ts";
import { analyticsPlugin } from "./plugin.ts";

async function seeded() {
  const db = await openDuckDb({ path: ":memory:", log: silentLogger });
  for (let d = 0; d < 10; d++) {
    db.add(assetRecord(d, `a${d}`, "resource_created", T0 + d * DAY));
    db.add(scoreRecord(d, "overall", 50 + d, T0 + d * DAY));
    db.add(billingRecord(d, `c${d}`, T0 + d * DAY, 10 + d));
    db.add(syncEventRecord(d, `s${d}`, T0 + d * DAY, 2 + d));
  }
  db.add(violationRecord(0, "a1", "open", T0 + DAY));
  db.add(violationRecord(1, "a1", "resolved", T0 + 5 * DAY));
  await db.flush();
  await db.refreshDaily(T0 + 9 * DAY);
  return db;
}

Deno.test("analytics API: named queries (read), trends with forecasts, SQL for admins only", async () => {
  const db = await seeded();
  const gw = await startTestGateway({
    plugins: [analyticsPlugin(() => db)],
    config: { gateway: { tokens: [{ name: "reader", token_env: "READ_T", scopes: ["read"] }] } },
    env: { READ_T: "r-token", LZSYNC_TOKEN: "admin-token" },
  });
  const call = async (path: string, token: string, init: RequestInit = {}) => {
    const res = await fetch(`${gw.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    });
    return { status: res.status, body: await res.json() };
  };
  try {
    const list = await call("/api/v1/analytics/queries", "r-token");
    assert.ok(list.body.queries.some((q: { name: string }) => q.name === "open_violations_on"));
    const dm = await call("/api/v1/analytics/query?name=daily_metrics&date=2026-11-10&days=10", "r-token");
    assert.equal(dm.status, 200);
    const all = dm.body.rows.filter((r: { source: string }) => r.source === "all");
    assert.deepEqual(all.map((r: { total_resources: number }) => r.total_resources), [
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
      10,
    ]);
    assert.equal(all[0].total_cost, 10);
    const open = await call("/api/v1/analytics/query?name=open_violations_on&date=2026-11-03", "r-token");
    assert.deepEqual(open.body.rows.map((r: { asset_name: string }) => r.asset_name), ["a1"]);
    const closed = await call("/api/v1/analytics/query?name=open_violations_on&date=2026-11-07", "r-token");
    assert.deepEqual(closed.body.rows, []);
    const lat = await call("/api/v1/analytics/query?name=sync_latency&date=2026-11-10", "r-token");
    assert.equal(lat.body.rows.length, 10);
    const tr = await call("/api/v1/analytics/trends?date=2026-11-10&days=30", "r-token");
    assert.equal(tr.body.days.length, 10);
    assert.deepEqual(tr.body.days.map((d: { open_violations: number }) => d.open_violations), [
      0,
      1,
      1,
      1,
      1,
      0,
      0,
      0,
      0,
      0,
    ]);
    assert.equal(tr.body.forecasts.resources.slope_per_day, 1);
    assert.match(tr.body.forecasts.cost.method, /least squares/);
    assert.equal(tr.body.sync_latency[0].layer, "git");

    assert.equal((await call("/api/v1/analytics/query?name=nope", "r-token")).status, 404);
    const typoParam = await call("/api/v1/analytics/query?name=daily_metrics&dayz=10", "r-token");
    assert.equal(typoParam.status, 400);
    assert.match(typoParam.body.reason, /unknown query parameter dayz; .* takes name, days, date/);
    assert.equal((await call("/api/v1/analytics/trends?days=30&from=2026-11-01", "r-token")).status, 400);
    const bad = await call("/api/v1/analytics/query?name=daily_metrics&days=0", "r-token");
    assert.equal(bad.status, 400);
    assert.match(bad.body.reason, /days must be an integer/);
    assert.equal(
      (await call("/api/v1/analytics/query?name=daily_metrics&date=2026-13-45'--", "r-token")).status,
      400,
    );

    const sql = {
      method: "POST",
      body: JSON.stringify({ sql: "SELECT COUNT(*) AS n FROM raw_lz_assets_v1" }),
    };
    assert.equal((await call("/api/v1/analytics/sql", "r-token", sql)).status, 403);
    assert.deepEqual((await call("/api/v1/analytics/sql", "admin-token", sql)).body.rows, [{ n: 10 }]);
    const write = await call("/api/v1/analytics/sql", "admin-token", {
      method: "POST",
      body: JSON.stringify({ sql: "DELETE FROM raw_lz_assets_v1" }),
    });
    assert.equal(write.status, 400);
    assert.match(write.body.reason, /only SELECT and EXPLAIN/);
    const typo = await call("/api/v1/analytics/sql", "admin-token", {
      method: "POST",
      body: JSON.stringify({ sql: "SELEC 1" }),
    });
    assert.equal(typo.status, 400);
    assert.equal(
      (await call("/api/v1/analytics/sql", "admin-token", { method: "POST", body: "{" })).status,
      400,
    );
    const js = await fetch(`${gw.url}/analytics/trends.js`);
    assert.match(await js.text(), /export function render/);
    const css = await fetch(`${gw.url}/analytics/trends.css`);
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    await css.body?.cancel();
  } finally {
    await gw.stop();
    await db.close();
  }
});

Deno.test("analytics API answers 503 while the database is not open", async () => {
  const gw = await startTestGateway({ plugins: [analyticsPlugin(() => null)] });
  try {
    const res = await fetch(`${gw.url}/api/v1/analytics/query?name=daily_metrics`);
    assert.equal(res.status, 503);
    assert.match((await res.json()).reason, /not open/);
  } finally {
    await gw.stop();
  }
});
