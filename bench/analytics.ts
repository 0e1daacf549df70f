/**
 * Analytics bench (issue 15), all figures measured in one run:
 *
 * - **DuckDB sink through the host**: N sync events (raw history + `sync_runs`) replayed from the embedded
 *   broker into a fresh DuckDB file by the analytics topology in a processor host (decode, validation,
 *   checkpoints, one transaction per flush). Baseline: a bare appender loop of the same rows into the same
 *   tables (same DDL and primary keys) of a fresh DuckDB file too, one transaction per 10,000 rows. Also the
 *   replay's time and the bench process's peak RSS.
 * - **interval MERGE**: N asset changes over N/10 keys flushed into `assets_history` (close + upsert on the
 *   key). Baseline: a bare appender of the same rows.
 * - **90-day trend query** on 1,000,000 violation intervals (`GET /api/v1/analytics/trends`).
 *
 * - **BigQuery sink** (when the bigquery-emulator binary is built, see `pipeline/testing/bigquery_emulator.ts`):
 *   rows/s of the exporter (Parquet load jobs of raw history and `sync_runs`, job ids recorded in DuckDB) vs a
 *   bare load job of the same raw rows as NDJSON on the emulator.
 *
 * `LZSYNC_BENCH_QUICK=1` shrinks the counts; `LZSYNC_BENCH_ANALYTICS_N` sets N (default 300,000).
 */
import { DuckDBInstance } from "@duckdb/node-api";
import type { BenchResult } from "./types.ts";
import { createEmbeddedBroker } from "../pipeline/broker/embedded/mod.ts";
import { silentLogger } from "../pipeline/log.ts";
import { encode } from "../pipeline/serde.ts";
import { createProcessorHost } from "../pipeline/processor/host.ts";
import { waitFor } from "../pipeline/testing/wait.ts";
import { type AnalyticsRecord, rawRow, type Row, syncRunRow } from "../pipeline/analytics/rows.ts";
import { intervalChanges } from "../pipeline/analytics/rows.ts";
import { INTERVALS, tableDef } from "../pipeline/analytics/tables.ts";
import { analyticsTopologies } from "../processors/analytics/mod.ts";
import { openDuckDb } from "../connectors/duckdb/engine.ts";
import { createTableSql, DUCKDB_TYPES, q } from "../connectors/duckdb/ddl.ts";
import { assetRecord, DAY, syncEventRecord } from "../connectors/duckdb/_fixtures.ts";
import { queryParams, trends } from "../features/analytics/queries.ts";
import { SYNC_EVENTS_TOPIC } from "../schemas/sync_events.ts";
import { emulatorBinary, startBigQueryEmulator } from "../pipeline/testing/bigquery_emulator.ts";
import { bigQueryClient } from "../connectors/bigquery/client.ts";
import { createBigQueryExporter } from "../connectors/bigquery/exporter.ts";
import { bigQueryTable } from "../connectors/bigquery/schema.ts";

const quick = Deno.env.get("LZSYNC_BENCH_QUICK") === "1";
const N = Number(Deno.env.get("LZSYNC_BENCH_ANALYTICS_N") ?? (quick ? 30_000 : 300_000));
const TREND_ROWS = Number(Deno.env.get("LZSYNC_BENCH_ANALYTICS_TREND_ROWS") ?? (quick ? 100_000 : 1_000_000));

/**
 * Appends `rows` to fresh copies of the same tables (same DDL, keys), one transaction per 10k rows, in a
 * database at `path` (`:memory:` unless the side it is compared with writes a file: then a file too, so the
 * ratio is lzsync's cost, not the cost of a durable file against none).
 */
async function bareAppender(tables: { name: string; rows: Row[] }[], path = ":memory:"): Promise<number> {
  const inst = await DuckDBInstance.create(path);
  const c = await inst.connect();
  try {
    await c.run("SET TimeZone = 'UTC'");
    for (const t of tables) await c.run(createTableSql(tableDef(t.name)));
    const t0 = performance.now();
    for (const t of tables) {
      const kinds = tableDef(t.name).columns.map((x) => DUCKDB_TYPES[x.type]);
      for (let i = 0; i < t.rows.length; i += 10_000) {
        await c.run("BEGIN TRANSACTION");
        const app = await c.createAppender(t.name);
        for (const row of t.rows.slice(i, i + 10_000)) {
          for (let k = 0; k < kinds.length; k++) {
            const v = row[k];
            if (v === null) app.appendNull();
            else if (kinds[k] === "BIGINT") app.appendBigInt(BigInt(v as number));
            else if (kinds[k] === "DOUBLE") app.appendDouble(v as number);
            else if (kinds[k] === "BOOLEAN") app.appendBoolean(v as boolean);
            else app.appendVarchar(String(v));
          }
          app.endRow();
        }
        app.flushSync();
        app.closeSync();
        await c.run("COMMIT");
      }
    }
    return performance.now() - t0;
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function hostSink(): Promise<BenchResult[]> {
  const base = Date.now() - 5 * DAY;
  const recs: AnalyticsRecord[] = Array.from(
    { length: N },
    (_, i) => syncEventRecord(i, `b${i}`, base + i * 10),
  );
  const broker = await createEmbeddedBroker({ logger: silentLogger });
  const dir = await Deno.makeTempDir({ prefix: "lzsync-bench-analytics-" });
  try {
    await broker.admin().createTopics([{ name: SYNC_EVENTS_TOPIC.name, partitions: 1 }]);
    const p = await broker.producer();
    for (let i = 0; i < N; i += 5000) {
      await p.send(
        SYNC_EVENTS_TOPIC.name,
        recs.slice(i, i + 5000).map((r) => ({
          key: r.key,
          value: encode(r.topic, r.value),
          timestamp: r.timestamp,
        })),
      );
    }
    await p.close();
    const db = await openDuckDb({ path: `${dir}/a.duckdb`, log: silentLogger });
    const [topo] = analyticsTopologies({
      sinks: [db],
      topics: [SYNC_EVENTS_TOPIC.name],
      dailyEveryMs: 3_600_000,
    });
    const host = createProcessorHost({ broker, log: silentLogger }, topo, { maxBatchSize: 10_000 });
    const t0 = performance.now();
    await host.start();
    await waitFor(
      async () => {
        const c = await broker.admin().fetchCommitted(topo.app, [SYNC_EVENTS_TOPIC.name]);
        return (c[0]?.offset ?? 0) >= N;
      },
      "the analytics host caught up",
      600_000,
    );
    const ms = performance.now() - t0;
    await host.stop();
    await db.close();
    const raw = tableDef("raw_lz_sync_events_v1");
    const runs = tableDef("sync_runs");
    // The sink wrote a file: so does the baseline (a fresh one beside it).
    const bare = await bareAppender([
      { name: raw.name, rows: recs.map((r) => rawRow(raw, r)) },
      { name: runs.name, rows: recs.map((r) => syncRunRow(runs, r)) },
    ], `${dir}/bare.duckdb`);
    const rate = N / (ms / 1000);
    const bareRate = N / (bare / 1000);
    return [
      {
        name: `DuckDB sink through the host (${N.toLocaleString("en-US")} events, raw + sync_runs)`,
        value: rate,
        unit: "records/s",
        baseline: { name: "bare appender loop, same rows, into a DuckDB file too", value: bareRate },
        ratio: rate / bareRate,
        target: ">= 0.7x bare appender",
        pass: rate / bareRate >= 0.7,
      },
      {
        name: `replay of ${N.toLocaleString("en-US")} events into DuckDB from scratch`,
        value: ms / 1000,
        unit: "s",
      },
      { name: "peak RSS of the bench process after the replay", value: peakRssMb(), unit: "MB" },
    ];
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function intervalMerge(): Promise<BenchResult> {
  const keys = Math.max(10, Math.floor(N / 10));
  const base = Date.now() - 5 * DAY;
  const recs = Array.from(
    { length: N },
    (_, i) => assetRecord(i, `k${i % keys}`, i < keys ? "resource_created" : "resource_updated", base + i),
  );
  const db = await openDuckDb({ path: ":memory:", log: silentLogger });
  let ms = 0;
  try {
    for (let i = 0; i < N; i += 10_000) {
      for (const r of recs.slice(i, i + 10_000)) db.add(r);
      const t0 = performance.now();
      await db.flush();
      ms += performance.now() - t0;
    }
  } finally {
    await db.close();
  }
  const t = tableDef("assets_history");
  const raw = tableDef("raw_lz_assets_v1");
  const spec = INTERVALS.find((s) => s.table === t.name)!;
  const bare = await bareAppender([
    { name: raw.name, rows: recs.map((r) => rawRow(raw, r)) },
    { name: t.name, rows: intervalChanges(t, spec, recs).opens },
  ]);
  const rate = N / (ms / 1000);
  const bareRate = N / (bare / 1000);
  return {
    name: `interval upsert (${N.toLocaleString("en-US")} asset changes over ${
      keys.toLocaleString("en-US")
    } keys)`,
    value: rate,
    unit: "records/s",
    baseline: { name: "bare appender loop, same rows", value: bareRate },
    ratio: rate / bareRate,
    target: ">= 0.6x bare appender",
    pass: rate / bareRate >= 0.6,
  };
}

async function trendQuery(): Promise<BenchResult> {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-bench-trend-" });
  const path = `${dir}/a.duckdb`;
  try {
    await (await openDuckDb({ path, log: silentLogger })).close();
    // History rows straight into the file (the query is measured here, not the sink), then 90 days of totals.
    const today = new Date().toISOString().slice(0, 10);
    const day0 = `TIMESTAMPTZ '${today} 00:00:00+00'`;
    const cols = tableDef("violations_history").columns;
    const sel = cols.map((c) => {
      if (c.name === "key") return `'r' || (i % 50) || '|a' || i`;
      if (c.name === "partition") return "0";
      if (c.name === "valid_from") return `${day0} - INTERVAL (i % 120) DAY`;
      if (c.name === "valid_to") {
        return `CASE WHEN i % 3 = 0 THEN NULL ELSE ${day0} - INTERVAL (i % 60) DAY END`;
      }
      if (c.name === "closed_by") return "CASE WHEN i % 3 = 0 THEN NULL ELSE i + 1 END";
      if (c.type === "int") return "i";
      if (c.type === "timestamp") return day0;
      if (c.type === "bool") return "TRUE";
      if (c.type === "json") return "'[]'::JSON";
      return "'x'";
    });
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    await c.run(
      `INSERT INTO violations_history (${cols.map((x) => q(x.name)).join(", ")}) SELECT ${
        sel.join(", ")
      } FROM range(${TREND_ROWS}) r(i)`,
    );
    await c.run(
      `INSERT INTO daily_metrics SELECT CAST(${day0} - INTERVAL (d) DAY AS DATE), 'all', 1000 + d, 10, 5.0, 80.0, now()
       FROM range(120) r(d)`,
    );
    c.closeSync();
    inst.closeSync();
    const db = await openDuckDb({ path, log: silentLogger, readOnly: true });
    try {
      const p = queryParams({ days: "90" }, Date.now());
      const first = await trends(db, p);
      if (first.days.length !== 90) throw new Error(`trend query returned ${first.days.length} days`);
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await trends(db, p);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const ms = times[2];
      return {
        name: `90-day trend query on ${TREND_ROWS.toLocaleString("en-US")} violation intervals (median of 5)`,
        value: ms,
        unit: "ms",
        target: "< 100 ms",
        pass: ms < 100,
      };
    } finally {
      await db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function bigQuerySink(): Promise<BenchResult[]> {
  try {
    await Deno.stat(emulatorBinary());
  } catch {
    console.error(
      `[bench] analytics: no ${emulatorBinary()}; BigQuery figure skipped (run deno task test once)`,
    );
    return [];
  }
  const n = quick ? 5_000 : 20_000;
  const emu = await startBigQueryEmulator("lzsync-bench");
  const db = await openDuckDb({ path: ":memory:", log: silentLogger });
  const dir = await Deno.makeTempDir({ prefix: "lzsync-bench-bq-" });
  try {
    const base = Date.now() - 5 * DAY;
    for (let i = 0; i < n; i++) db.add(syncEventRecord(i, `q${i}`, base + i * 10));
    await db.flush();
    const client = bigQueryClient({ project: emu.project, dataset: "lz_bench", endpoint: emu.endpoint });
    const exporter = createBigQueryExporter({ db, client, dataset: "lz_bench", log: silentLogger });
    await exporter.ensureTables();
    let t0 = performance.now();
    const r = await exporter.syncOnce();
    const ms = performance.now() - t0;
    if (r.rows < 2 * n) throw new Error(`exported ${r.rows} rows, expected ${2 * n}`);
    // Baseline: the same raw rows as one NDJSON load job into a table of the same schema.
    const raw = tableDef("raw_lz_sync_events_v1");
    const file = `${dir}/raw.ndjson`;
    const rows = await db.query(`SELECT * FROM ${q(raw.name)}`);
    await Deno.writeTextFile(file, rows.map((x) => JSON.stringify(x)).join("\n") + "\n");
    const spec = bigQueryTable(raw);
    const [bare] = await client.dataset("lz_bench").createTable("bare_raw", { schema: spec.schema });
    t0 = performance.now();
    await bare.load(file, { sourceFormat: "NEWLINE_DELIMITED_JSON", schema: spec.schema } as never);
    const bareMs = performance.now() - t0;
    const rate = r.rows / (ms / 1000);
    const bareRate = n / (bareMs / 1000);
    return [{
      name: `BigQuery sink on the emulator (${n.toLocaleString("en-US")} events: raw + sync_runs rows)`,
      value: rate,
      unit: "rows/s",
      baseline: { name: "bare NDJSON load job of the raw rows", value: bareRate },
      ratio: rate / bareRate,
      target: "rows/s vs a bare load job (no target)",
    }];
  } finally {
    await db.close();
    await emu.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs the analytics figures. */
export async function run(): Promise<BenchResult[]> {
  return [...await hostSink(), await intervalMerge(), await trendQuery(), ...await bigQuerySink()];
}
