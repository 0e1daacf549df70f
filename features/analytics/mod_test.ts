import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { resolveConfig } from "../../pipeline/config.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { encode } from "../../pipeline/serde.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { openDuckDb } from "../../connectors/duckdb/engine.ts";
import { assetRecord, syncEventRecord } from "../../connectors/duckdb/_fixtures.ts";
import { ASSETS_TOPIC } from "../../schemas/assets.ts";
import { SYNC_EVENTS_TOPIC } from "../../schemas/sync_events.ts";
import { analyticsTopologies } from "../../processors/analytics/mod.ts";
import { analyticsFeature, buildAnalytics, duckDbPath } from "./mod.ts";

Deno.test("analytics is on by default: DuckDB under data_dir, one topology reading every analytics topic", () => {
  const cfg = resolveConfig({ data_dir: "/tmp/x" }).config;
  assert.equal(duckDbPath(cfg), "/tmp/x/analytics.duckdb");
  const [t, ...rest] = analyticsFeature.topologies();
  assert.equal(rest.length, 0);
  assert.equal(t.app, "lzsync-analytics");
  assert.ok(t.inputs.includes(ASSETS_TOPIC.name) && t.inputs.includes(SYNC_EVENTS_TOPIC.name));
  assert.ok(!t.inputs.some((i) => i.startsWith("lz.test.")));
  assert.deepEqual(t.sinks?.map((s) => s.name), ["duckdb"]);
  const off = buildAnalytics(
    resolveConfig({ analytics: { duckdb: { enabled: false } } }).config,
    silentLogger,
  );
  assert.deepEqual([off.topologies.length, off.resources?.length], [0, 0]);
});

Deno.test("the analytics topology writes DuckDB through the processor host; stop exports Parquet", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-analytics-" });
  const broker = await createEmbeddedBroker({ logger: silentLogger });
  try {
    const config = resolveConfig({ data_dir: dir }).config;
    const feature = buildAnalytics(config, silentLogger);
    const topology = feature.topologies[0];
    await broker.admin().createTopics(
      topology.inputs.map((name) => ({ name, partitions: 1 })),
    );
    const producer = await broker.producer();
    const now = Date.now();
    const recs = [
      assetRecord(0, "a", "resource_created", now - 2000),
      assetRecord(1, "a", "resource_updated", now - 1000),
      syncEventRecord(0, "s1", now - 1000),
    ];
    for (const r of recs) {
      await producer.send(r.topic, [{ key: r.key, value: encode(r.topic, r.value), timestamp: r.timestamp }]);
    }
    await producer.close();
    for (const s of feature.resources!) await s.start();
    const host = createProcessorHost({ broker, log: silentLogger }, topology, {});
    await host.start();
    await waitFor(async () => {
      const c = await broker.admin().fetchCommitted(topology.app, [
        ASSETS_TOPIC.name,
        SYNC_EVENTS_TOPIC.name,
      ]);
      return c.reduce((n, x) => n + x.offset, 0) === 3;
    }, "analytics committed 3 records");
    await host.stop();
    for (const s of feature.resources!) await s.stop();
    const files = [...Deno.readDirSync(`${dir}/analytics`)].map((e) => e.name);
    assert.ok(files.includes("assets_history.parquet") && files.includes("sync_runs.parquet"), String(files));
    const db = await openDuckDb({ path: duckDbPath(config), log: silentLogger, readOnly: true });
    try {
      const n = await db.query(
        `SELECT (SELECT COUNT(*) FROM raw_lz_assets_v1) AS raw, (SELECT COUNT(*) FROM assets_history) AS hist,
                (SELECT COUNT(*) FROM sync_runs) AS runs,
                (SELECT COUNT(*) FROM '${dir}/analytics/raw_lz_assets_v1.parquet') AS parquet`,
      );
      assert.deepEqual(n, [{ raw: 2, hist: 2, runs: 1, parquet: 2 }]);
    } finally {
      await db.close();
    }
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the analytics host writes a backlog in one DuckDB flush per batch and one checkpoint per flush", async () => {
  // A guard on counts, not time (the host bench's figure follows them): 25,000 records read in batches of
  // 10,000 are 3 flushes (3 transactions, none through the upsert fallback) and 3 checkpoints.
  const n = 25_000;
  const broker = await createEmbeddedBroker({ logger: silentLogger });
  const db = await openDuckDb({ path: ":memory:", log: silentLogger });
  try {
    await broker.admin().createTopics([{ name: SYNC_EVENTS_TOPIC.name, partitions: 1 }]);
    const producer = await broker.producer();
    const at = Date.now() - 86_400_000;
    const recs = Array.from({ length: n }, (_, i) => syncEventRecord(i, `g${i}`, at + i));
    await producer.send(
      SYNC_EVENTS_TOPIC.name,
      recs.map((r) => ({ key: r.key, value: encode(r.topic, r.value), timestamp: r.timestamp })),
    );
    await producer.close();
    const [topology] = analyticsTopologies({
      sinks: [db],
      topics: [SYNC_EVENTS_TOPIC.name],
      dailyEveryMs: 3_600_000,
    });
    let checkpoints = 0;
    const host = createProcessorHost({ broker, log: silentLogger }, topology, {
      maxBatchSize: 10_000,
      onCheckpoint: () => void checkpoints++,
    });
    await host.start();
    try {
      await waitFor(
        async () => {
          const [c] = await broker.admin().fetchCommitted(topology.app, [SYNC_EVENTS_TOPIC.name]);
          return (c?.offset ?? 0) >= n;
        },
        `analytics committed ${n} records`,
        60_000,
      );
    } finally {
      await host.stop();
    }
    assert.deepEqual(db.stats(), { flushes: 3, records: n, redelivered: 0, upserted: 0 });
    assert.equal(checkpoints, 3);
    assert.deepEqual(await db.query(`SELECT COUNT(*) AS runs FROM sync_runs`), [{ runs: n }]);
  } finally {
    await db.close();
    await broker.close();
  }
});

Deno.test("layers.bigquery.enabled needs a project and the DuckDB tables it is loaded from", () => {
  assert.throws(
    () => resolveConfig({ layers: { bigquery: { enabled: true } } }),
    /\/layers\/bigquery\/project: is required/,
  );
  assert.throws(
    () =>
      resolveConfig({
        layers: { bigquery: { enabled: true, project: "p" } },
        analytics: { duckdb: { enabled: false } },
      }),
    /\/analytics\/duckdb\/enabled: must be true/,
  );
  const ok = resolveConfig({ layers: { bigquery: { enabled: true, project: "p" } } }).config.layers.bigquery;
  assert.deepEqual([ok.dataset, ok.interval], ["lz_portal", "5m"]);
});
