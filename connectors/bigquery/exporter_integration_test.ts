/**
 * The BigQuery exporter against goccy/bigquery-emulator: tables created partitioned and clustered with the
 * declared schema, every DuckDB row copied once, interval changes and recomputed days MERGEd, and an exporter
 * abandoned between a finished load job and its mark (a crash there) leaves no duplicate after a restart.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../pipeline/log.ts";
import { needs, requireBigQueryEmulator } from "../../pipeline/testing/env.ts";
import { startBigQueryEmulator } from "../../pipeline/testing/bigquery_emulator.ts";
import { analyticsTables } from "../../pipeline/analytics/tables.ts";
import type { AnalyticsRecord } from "../../pipeline/analytics/rows.ts";
import { openDuckDb } from "../duckdb/engine.ts";
import {
  assetRecord,
  billingRecord,
  DAY,
  scoreRecord,
  syncEventRecord,
  T0,
  violationRecord,
} from "../duckdb/_fixtures.ts";
import { bigQueryClient } from "./client.ts";
import { createBigQueryExporter } from "./exporter.ts";
import { bigQueryTable } from "./schema.ts";
import { createBigQueryService } from "./service.ts";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { decode } from "../../pipeline/serde.ts";
import { freePort } from "../../pipeline/testing/free_port.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";

function firstRecords(): AnalyticsRecord[] {
  const recs: AnalyticsRecord[] = [];
  for (let i = 0; i < 50; i++) {
    recs.push(
      assetRecord(i, `a${i % 20}`, i < 20 ? "resource_created" : "resource_updated", T0 + i * 3600_000),
    );
  }
  recs.push(
    violationRecord(0, "a1", "open", T0),
    scoreRecord(0, "overall", 50, T0),
    billingRecord(0, "c1", T0, 10),
  );
  for (let i = 0; i < 30; i++) recs.push(syncEventRecord(i, `s${i}`, T0 + i * 60_000));
  return recs;
}

Deno.test({
  name: "bigquery exporter: same rows as DuckDB, MERGEd intervals and days, no duplicate after a crash",
  ignore: needs("bigquery"),
  async fn() {
    requireBigQueryEmulator();
    const emu = await startBigQueryEmulator("lzsync-test");
    const db = await openDuckDb({ path: ":memory:", log: silentLogger });
    try {
      const client = bigQueryClient({ project: emu.project, dataset: "lz_portal", endpoint: emu.endpoint });
      const opts = { db, client, dataset: "lz_portal", log: silentLogger, batchOffsets: 20 };
      const exporter = createBigQueryExporter(opts);
      await exporter.ensureTables();
      await exporter.ensureTables(); // idempotent
      for (const t of analyticsTables().filter((t) => t.kind !== "internal")) {
        const [meta] = await client.dataset("lz_portal").table(t.name).getMetadata();
        const spec = bigQueryTable(t);
        assert.deepEqual(
          meta.schema.fields.map((
            f: { name: string; type: string; mode: string },
          ) => [f.name, f.type, f.mode]),
          spec.schema.fields.map((f) => [f.name, f.type, f.mode]),
          t.name,
        );
        assert.deepEqual(meta.timePartitioning, spec.timePartitioning, t.name);
        assert.deepEqual(meta.clustering, spec.clustering, t.name);
      }

      for (const r of firstRecords()) db.add(r);
      await db.flush();
      await db.refreshDaily(T0 + 3 * DAY);
      const first = await exporter.syncOnce();
      assert.ok(first.loads >= 4, JSON.stringify(first)); // 50 asset offsets in batches of 20: 3 loads, + runs
      const bqCount = async (table: string, where = "TRUE") => {
        const [rows] = await client.query({
          query: `SELECT COUNT(*) AS n, COUNT(DISTINCT FORMAT('%d:%d', \`partition\`, \`offset\`)) AS d
                  FROM lz_portal.${table} WHERE ${where}`,
        });
        return [Number(rows[0].n), Number(rows[0].d)];
      };
      const duckCount = async (table: string, where = "TRUE") =>
        Number((await db.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`))[0].n);
      for (const t of ["raw_lz_assets_v1", "raw_lz_sync_events_v1", "sync_runs", "assets_history"]) {
        const n = await duckCount(t);
        assert.deepEqual(await bqCount(t), [n, n], t);
      }
      const [dm] = await client.query({ query: `SELECT COUNT(*) AS n FROM lz_portal.daily_metrics` });
      assert.equal(Number(dm[0].n), await duckCount("daily_metrics"));

      // Deletions close intervals; the next export crashes after its first finished load job.
      for (let i = 0; i < 10; i++) db.add(assetRecord(50 + i, `a${i}`, "resource_deleted", T0 + 2 * DAY + i));
      for (let i = 30; i < 45; i++) db.add(syncEventRecord(i, `s${i}`, T0 + 2 * DAY + i));
      await db.flush();
      await db.refreshDaily(T0 + 3 * DAY);
      let crashed = false;
      const crashing = createBigQueryExporter({
        ...opts,
        afterLoad: () => {
          if (!crashed) {
            crashed = true;
            throw new Error("crash between load and mark");
          }
        },
      });
      await assert.rejects(crashing.syncOnce(), /crash between load and mark/);
      const marks = await db.exportMarks();
      assert.ok(marks.some((m) => m.pendingTo !== null), "no load was in flight at the crash");
      // A restarted exporter finds the finished job by its id and loads nothing twice.
      await createBigQueryExporter(opts).syncOnce();
      for (const t of ["raw_lz_assets_v1", "raw_lz_sync_events_v1", "sync_runs", "assets_history"]) {
        const n = await duckCount(t);
        assert.deepEqual(await bqCount(t), [n, n], t);
      }
      assert.deepEqual(await bqCount("assets_history", "valid_to IS NULL"), [10, 10]);
      assert.equal(await duckCount("assets_history", "valid_to IS NULL"), 10);
      const [days] = await client.query({
        query: `SELECT CAST(date AS STRING) AS date, total_resources AS n FROM lz_portal.daily_metrics
                WHERE source = 'all' ORDER BY date`,
      });
      const duckDays = await db.query(
        `SELECT CAST(date AS VARCHAR) AS date, total_resources AS n FROM daily_metrics WHERE source = 'all' ORDER BY date`,
      );
      assert.deepEqual(
        days.map((r: { date: string; n: number }) => ({ date: r.date, n: Number(r.n) })),
        duckDays,
      );
      // Nothing new: nothing loaded.
      const idle = await createBigQueryExporter(opts).syncOnce();
      assert.equal(idle.loads, 0);
    } finally {
      await db.close();
      await emu.stop();
    }
  },
});

Deno.test({
  name: "bigquery layer: each export is a sync attempt on lz.sync.events.v1 (ok with items, or the error)",
  ignore: needs("bigquery"),
  async fn() {
    requireBigQueryEmulator();
    const emu = await startBigQueryEmulator("lzsync-test");
    const db = await openDuckDb({ path: ":memory:", log: silentLogger });
    const broker = await createEmbeddedBroker({ logger: silentLogger });
    const closed = freePort();
    try {
      for (const r of firstRecords()) db.add(r);
      await db.flush();
      const common = {
        db: () => db,
        broker,
        log: silentLogger,
        clock: { now: () => Date.now() },
        intervalMs: 3_600_000,
      };
      const good = createBigQueryService({
        ...common,
        target: { project: emu.project, dataset: "lz_service", endpoint: emu.endpoint },
      });
      const bad = createBigQueryService({
        ...common,
        target: {
          project: emu.project,
          dataset: "lz_service",
          endpoint: `127.0.0.1:${closed}`,
          maxRetries: 0,
        },
      });
      await good.start();
      await bad.start();
      const r = await good.syncNow();
      assert.ok(r && r.rows > 0);
      assert.equal(await bad.syncNow(), null);
      await good.stop();
      await bad.stop();
      const events: SyncEvent[] = [];
      const reader = broker.reader({ topics: [SYNC_EVENTS_TOPIC.name], from: "earliest" });
      const running = reader.run((b) => {
        for (const rec of b.records) events.push(decode<SyncEvent>(SYNC_EVENTS_TOPIC.name, rec.value)!);
        return Promise.resolve();
      });
      await waitFor(() => events.length >= 2, "two sync events");
      await reader.stop();
      await running;
      assert.deepEqual(events.map((e) => [e.layer, e.ok]), [["bigquery", true], ["bigquery", false]]);
      assert.equal(events[0].items, r!.rows);
      assert.equal(
        events[0].event_time,
        new Date(T0).toISOString(),
        "lag measured from the oldest loaded record",
      );
      assert.ok(
        events[0].next_sync && events[1].error && events[1].error.length > 0,
        JSON.stringify(events[1]),
      );
    } finally {
      await broker.close();
      await db.close();
      await emu.stop();
    }
  },
});
