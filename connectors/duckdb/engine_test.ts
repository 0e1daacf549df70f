import assert from "node:assert/strict";
import { silentLogger } from "../../pipeline/log.ts";
import type { AnalyticsRecord } from "../../pipeline/analytics/rows.ts";
import { validate } from "../../pipeline/serde.ts";
import { openDuckDb } from "./engine.ts";
import { ASSETS_TOPIC } from "../../schemas/assets.ts";
import {
  assetRecord,
  billingRecord,
  DAY,
  scoreRecord,
  syncEventRecord,
  T0,
  violationRecord,
} from "./_fixtures.ts";

function scenario(): AnalyticsRecord[] {
  return [
    assetRecord(0, "a", "resource_created", T0),
    assetRecord(1, "b", "resource_created", T0),
    assetRecord(2, "a", "resource_updated", T0 + DAY),
    assetRecord(3, "b", "resource_deleted", T0 + 2 * DAY),
    violationRecord(0, "a", "open", T0),
    violationRecord(1, "a", "resolved", T0 + DAY + 1000),
    scoreRecord(0, "overall", 50, T0),
    scoreRecord(1, "overall", 70, T0 + 1000),
    scoreRecord(2, "project:p1", 60, T0),
    scoreRecord(3, "project:p1", 90, T0 + DAY),
    syncEventRecord(0, "s1", T0),
    billingRecord(0, "c1", T0, 12.5, -2.5),
  ];
}

Deno.test("the test records are valid against their topics' schemas", () => {
  for (const r of scenario()) validate(r.topic, r.value);
});

Deno.test("duckdb engine writes raw history, validity intervals and sync runs; re-delivery adds nothing", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/a.duckdb`;
  try {
    let db = await openDuckDb({ path, log: silentLogger });
    for (const r of scenario()) db.add(r);
    await db.flush();
    const count = async (t: string) => (await db.query(`SELECT COUNT(*) AS n FROM ${t}`))[0].n;
    assert.equal(await count("raw_lz_assets_v1"), 4);
    const hist = await db.query(
      `SELECT key, "offset", valid_from, valid_to, closed_by, type FROM assets_history ORDER BY "offset"`,
    );
    assert.deepEqual(hist.map((h) => [h.key, h.offset, h.valid_to !== null, h.closed_by]), [
      ["a", 0, true, 2],
      ["b", 1, true, 3],
      ["a", 2, false, null],
    ]);
    assert.equal(hist[1].valid_to, new Date(T0 + 2 * DAY).toISOString());
    const runs = await db.query(
      `SELECT id, layer, ok, items, error, latency_seconds, "trigger", triggered_by FROM sync_runs`,
    );
    assert.deepEqual(runs, [{
      id: "s1",
      layer: "git",
      ok: true,
      items: 3,
      error: null,
      latency_seconds: 3,
      trigger: "webhook",
      triggered_by: "octocat",
    }]);
    // The same records again, in the same process and after a reopen: nothing is added.
    for (const r of scenario()) db.add(r);
    await db.flush();
    await db.close();
    db = await openDuckDb({ path, log: silentLogger });
    assert.equal(db.applied().get(`${ASSETS_TOPIC.name}:0`), 4);
    for (const r of scenario()) db.add(r);
    await db.flush();
    assert.equal(await count("raw_lz_assets_v1"), 4);
    assert.equal(await count("assets_history"), 3);
    // A later record closes the open interval of its key, in a later flush.
    db.add(assetRecord(4, "a", "resource_deleted", T0 + 3 * DAY));
    await db.flush();
    const open = await db.query(`SELECT COUNT(*) AS n FROM assets_history WHERE valid_to IS NULL`);
    assert.equal(open[0].n, 0);
    assert.deepEqual(await db.query(`SELECT closed_by FROM assets_history WHERE "offset" = 2`), [{
      closed_by: 4,
    }]);
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("duckdb engine upserts on the key when the offsets table does not know a record", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/a.duckdb`;
  try {
    let db = await openDuckDb({ path, log: silentLogger });
    for (const r of scenario()) db.add(r);
    await db.flush();
    await db.close();
    // Forget the offsets (as if only the rows had been written): the primary keys still dedupe.
    db = await openDuckDb({ path, log: silentLogger });
    await db.close();
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    await c.run("DELETE FROM analytics_offsets");
    c.closeSync();
    inst.closeSync();
    db = await openDuckDb({ path, log: silentLogger });
    assert.equal(db.applied().size, 0);
    for (const r of scenario()) db.add(r);
    await db.flush();
    const n = await db.query(
      `SELECT (SELECT COUNT(*) FROM raw_lz_assets_v1) AS raw, (SELECT COUNT(*) FROM assets_history) AS hist,
              (SELECT COUNT(*) FROM violations_history) AS viol, (SELECT COUNT(*) FROM sync_runs) AS runs`,
    );
    assert.deepEqual(n, [{ raw: 4, hist: 3, viol: 1, runs: 1 }]);
    assert.equal(db.stats().upserted, 1, "the direct append met the existing rows and fell back to upserts");
    const v = await db.query(`SELECT valid_to FROM violations_history`);
    assert.equal(v[0].valid_to, new Date(T0 + DAY + 1000).toISOString());
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("duckdb engine computes daily_metrics and daily compliance per project from history", async () => {
  const db = await openDuckDb({ path: ":memory:", log: silentLogger });
  try {
    for (const r of scenario()) db.add(r);
    await db.flush();
    await db.refreshDaily(T0 + 3 * DAY);
    const m = await db.query(
      `SELECT CAST(date AS VARCHAR) AS date, total_resources AS n, resources_with_violations AS v, total_cost AS cost,
              avg_compliance_score AS score FROM daily_metrics WHERE source = 'all' ORDER BY date`,
    );
    assert.deepEqual(m, [
      { date: "2026-11-01", n: 2, v: 1, cost: 10, score: 60 },
      { date: "2026-11-02", n: 2, v: 0, cost: null, score: 70 },
      { date: "2026-11-03", n: 1, v: 0, cost: null, score: 70 },
      { date: "2026-11-04", n: 1, v: 0, cost: null, score: 70 },
    ]);
    const bySource = await db.query(`SELECT COUNT(*) AS n FROM daily_metrics WHERE source = 'api'`);
    assert.equal(bySource[0].n, 4);
    const c = await db.query(
      `SELECT CAST(date AS VARCHAR) AS date, name, score FROM daily_compliance WHERE kind = 'project' ORDER BY date`,
    );
    assert.deepEqual(c.map((r) => [r.date, r.name, r.score]), [
      ["2026-11-01", "p1", 60],
      ["2026-11-02", "p1", 90],
      ["2026-11-03", "p1", 90],
      ["2026-11-04", "p1", 90],
    ]);
    // Idempotent: a second run gives the same rows.
    await db.refreshDaily(T0 + 3 * DAY);
    assert.equal((await db.query(`SELECT COUNT(*) AS n FROM daily_metrics`))[0].n, 8);
  } finally {
    await db.close();
  }
});

Deno.test("duckdb query() refuses statements that write, and Parquet export is readable", async () => {
  const dir = await Deno.makeTempDir();
  const db = await openDuckDb({ path: ":memory:", log: silentLogger });
  try {
    for (const r of scenario()) db.add(r);
    await db.flush();
    await assert.rejects(db.query("DELETE FROM raw_lz_assets_v1"), /only SELECT and EXPLAIN/);
    await assert.rejects(db.query("SELECT 1; SELECT 2"), /exactly one statement/);
    const files = await db.exportParquet(`${dir}/analytics`);
    assert.ok(files.some((f) => f.endsWith("/raw_lz_assets_v1.parquet")));
    const rows = await db.query(`SELECT COUNT(*) AS n FROM '${dir}/analytics/assets_history.parquet'`);
    assert.equal(rows[0].n, 3);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("duckdb engine adds a declared nullable column an older file lacks, and refuses a changed type", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/a.duckdb`;
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const alter = async (sql: string) => {
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    await c.run(sql);
    c.closeSync();
    inst.closeSync();
  };
  try {
    await (await openDuckDb({ path, log: silentLogger })).close();
    // An older file: assets_history without closed_by.
    await alter(`ALTER TABLE assets_history DROP COLUMN closed_by`);
    let db = await openDuckDb({ path, log: silentLogger });
    const cols = await db.query(
      `SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'assets_history'`,
    );
    assert.ok(cols.some((r) => r.c === "closed_by"));
    db.add(assetRecord(0, "a", "resource_created", T0));
    db.add(assetRecord(1, "a", "resource_updated", T0 + 1));
    await db.flush();
    assert.deepEqual(await db.query(`SELECT closed_by FROM assets_history ORDER BY "offset"`), [
      { closed_by: 1 },
      { closed_by: null },
    ]);
    await db.close();
    // A column whose type changed: a clear error that says how to rebuild.
    await alter(`ALTER TABLE sync_runs ALTER items TYPE VARCHAR`);
    await assert.rejects(
      openDuckDb({ path, log: silentLogger }),
      /sync_runs .* items VARCHAR, the declaration says BIGINT.*replay/,
    );
    db = null as never;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("duckdb daily step: incremental runs (changed days only, skipped when nothing changed) equal a full run", async () => {
  const inc = await openDuckDb({ path: ":memory:", log: silentLogger });
  const full = await openDuckDb({ path: ":memory:", log: silentLogger });
  const later: AnalyticsRecord[] = [
    assetRecord(4, "a", "resource_deleted", T0 + 3 * DAY),
    assetRecord(5, "c", "resource_created", T0 + 3 * DAY),
    violationRecord(2, "c", "open", T0 + 3 * DAY),
    scoreRecord(4, "project:p1", 40, T0 + 3 * DAY),
    // A billing row arriving late for an earlier usage day.
    { ...billingRecord(1, "c2", T0 + DAY, 7), timestamp: T0 + 3 * DAY },
  ];
  const rows = async (db: typeof inc) => [
    await db.query(
      `SELECT * EXCLUDE (created_at) FROM daily_metrics ORDER BY date, source`,
    ),
    await db.query(`SELECT * EXCLUDE (created_at) FROM daily_compliance ORDER BY date, kind, name`),
  ];
  try {
    for (const r of scenario()) inc.add(r);
    await inc.flush();
    await inc.refreshDaily(T0 + 3 * DAY);
    const before = await inc.query(`SELECT MAX(created_at) AS c FROM daily_metrics`);
    await inc.refreshDaily(T0 + 3 * DAY + 1000); // nothing changed, same day: skipped
    assert.deepEqual(await inc.query(`SELECT MAX(created_at) AS c FROM daily_metrics`), before);
    for (const r of later) inc.add(r);
    await inc.flush();
    await inc.refreshDaily(T0 + 3 * DAY + 2000);
    await inc.refreshDaily(T0 + 5 * DAY); // a new day, no new records: its rows appear
    for (const r of [...scenario(), ...later]) full.add(r);
    await full.flush();
    await full.refreshDaily(T0 + 5 * DAY);
    const [a, b] = [await rows(inc), await rows(full)];
    assert.equal(a[0].length, 12);
    assert.deepEqual(a, b);
    const nov2 = a[0].find((r) => String(r.date).startsWith("2026-11-02") && r.source === "all");
    assert.equal(nov2?.total_cost, 7, "the late billing row counts on its usage day");
  } finally {
    await inc.close();
    await full.close();
  }
});

Deno.test("duckdb engine: each flush is one transaction on the append path, also when later batches update earlier keys", async () => {
  // A guard on counts, not time: a flush that falls back to staged upserts writes its batch twice (two
  // transactions); the interval bench's figure halves when that happens to every flush.
  const db = await openDuckDb({ path: ":memory:", log: silentLogger });
  try {
    const keys = 50;
    for (let batch = 0; batch < 4; batch++) {
      for (let i = batch * 200; i < (batch + 1) * 200; i++) {
        db.add(assetRecord(i, `k${i % keys}`, i < keys ? "resource_created" : "resource_updated", T0 + i));
        db.add(syncEventRecord(i, `s${i}`, T0 + i));
      }
      await db.flush();
    }
    assert.deepEqual(db.stats(), { flushes: 4, records: 1_600, redelivered: 0, upserted: 0 });
    const [n] = await db.query(
      `SELECT (SELECT COUNT(*) FROM assets_history) AS hist,
              (SELECT COUNT(*) FROM assets_history WHERE valid_to IS NULL) AS open,
              (SELECT COUNT(*) FROM sync_runs) AS runs`,
    );
    assert.deepEqual(n, { hist: 800, open: keys, runs: 800 });
  } finally {
    await db.close();
  }
});
