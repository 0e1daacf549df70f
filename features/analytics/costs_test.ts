/**
 * Costs end to end on the embedded broker: the billing export file → `lz.billing.costs.v1` → the analytics
 * processor → DuckDB → `daily_metrics.total_cost` (cost + credits per usage day), and the cost-spike check
 * over a trailing average (no alert on the steady sample, an alert for a spike day, resolved after it).
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { resolveConfig } from "../../pipeline/config.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { BILLING_TOPIC } from "../../schemas/billing.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import { costSpikeAlert } from "../../processors/analytics/cost_spike.ts";
import { createBillingService, SAMPLE_BILLING_EXPORT } from "../../connectors/billing/service.ts";
import { parseBillingExport } from "../../connectors/billing/export_file.ts";
import { buildAnalytics } from "./mod.ts";
import { createTestDriver } from "../../pipeline/processor/driver.ts";
import { analyticsTopologies } from "../../processors/analytics/mod.ts";
import { openDuckDb } from "../../connectors/duckdb/engine.ts";
import { billingRecord, DAY } from "../../connectors/duckdb/_fixtures.ts";
import { ALERTS_TOPIC } from "../../schemas/alerts.ts";

Deno.test("billing export → daily_metrics.total_cost per day, and the cost-spike alert opens and resolves", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-costs-" });
  const broker = await createEmbeddedBroker({ logger: silentLogger });
  const file = `${dir}/billing.ndjson`;
  await Deno.copyFile(SAMPLE_BILLING_EXPORT, file);
  const clock = { now: () => Date.UTC(2026, 10, 29, 12) };
  const parts = buildAnalytics(resolveConfig({ data_dir: dir }).config, silentLogger);
  const topology = parts.topologies[0];
  const billing = createBillingService({
    path: file,
    broker,
    log: silentLogger,
    clock,
    intervalMs: 3_600_000,
  });
  const host = createProcessorHost({ broker, log: silentLogger }, topology, {});
  const committed = async () =>
    (await broker.admin().fetchCommitted(topology.app, [BILLING_TOPIC.name])).reduce(
      (n, c) => n + c.offset,
      0,
    );
  try {
    await broker.admin().createTopics(topology.inputs.map((name) => ({ name, partitions: 1 })));
    for (const s of parts.resources!) await s.start();
    await billing.start();
    await host.start();
    await waitFor(async () => (await committed()) === 210, "210 billing rows committed");
    assert.deepEqual(await billing.readNow(), { rows: 0, bad: 0 }, "an unchanged file is not produced again");
    const db = parts.duck!.sink;
    await db.refreshDaily(clock.now());
    const expected = new Map<string, number>();
    for (const r of (await parseBillingExport(await Deno.readTextFile(file))).rows) {
      const day = r.value.usage_start_time.slice(0, 10);
      expected.set(day, (expected.get(day) ?? 0) + r.value.cost + r.value.credits);
    }
    const got = await db.query(
      `SELECT CAST(date AS VARCHAR) AS date, total_cost FROM daily_metrics
       WHERE source = 'all' AND total_cost IS NOT NULL ORDER BY date`,
    );
    assert.equal(got.length, 30);
    for (const r of got) {
      assert.ok(
        Math.abs((r.total_cost as number) - expected.get(r.date as string)!) < 1e-6,
        r.date as string,
      );
    }
    const check = { reader: db, ratio: 1.5, trailingDays: 7 };
    assert.equal(await costSpikeAlert(check, clock.now(), null), null, "the steady sample raises no alert");

    // A spike day, and a line that is not a billing row.
    const spike = JSON.parse((await Deno.readTextFile(file)).split("\n")[0]);
    Object.assign(spike, {
      usage_start_time: "2026-11-29 00:00:00 UTC",
      usage_end_time: "2026-11-30 00:00:00 UTC",
      cost: 900,
      credits: [],
    });
    await Deno.writeTextFile(file, `${JSON.stringify(spike)}\n{"cost": "x"}\n`, { append: true });
    assert.deepEqual(await billing.readNow(), { rows: 211, bad: 1 });
    await waitFor(async () => (await committed()) === 421, "the re-read committed");
    await db.refreshDaily(clock.now());
    const alert = await costSpikeAlert(check, clock.now(), null);
    assert.equal(alert?.state, "open");
    assert.equal(alert?.type, "CostSpike");
    assert.match(alert!.message, /2026-11-29 was 9\d\d\.\d\d, above 1\.5× the 7-day average/);
    assert.equal(await costSpikeAlert(check, clock.now(), alert), null, "still open: nothing new to say");
    // The next day is back to normal: the alert resolves.
    Object.assign(spike, {
      usage_start_time: "2026-11-30 00:00:00 UTC",
      usage_end_time: "2026-12-01 00:00:00 UTC",
      cost: 80,
    });
    await Deno.writeTextFile(file, `${JSON.stringify(spike)}\n`, { append: true });
    assert.deepEqual(await billing.readNow(), { rows: 212, bad: 1 });
    await waitFor(async () => (await committed()) === 633, "the third read committed");
    const later = Date.UTC(2026, 10, 30, 12);
    await db.refreshDaily(later);
    const resolved = await costSpikeAlert(check, later, alert);
    assert.equal(resolved?.state, "resolved");
    assert.equal(resolved?.opened_at, alert?.opened_at, "the resolve belongs to the episode it ends");
    assert.equal(await costSpikeAlert(check, later, null), null);
    // The same rows read again count once (keys are line digests).
    const days = await db.query(
      `SELECT COUNT(*) AS n FROM daily_metrics WHERE source = 'all' AND total_cost IS NOT NULL`,
    );
    assert.equal(days[0].n, 32);
    const dlq = await broker.admin().topicOffsets(DLQ_TOPIC.name);
    assert.equal(dlq.reduce((n, p) => n + p.high, 0), 2, "the bad line once per file version");
  } finally {
    await host.stop();
    await billing.stop();
    for (const s of parts.resources ?? []) await s.stop();
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the analytics punctuation runs the daily step and forwards CostSpike open, then resolved, on lz.alerts.v1", async () => {
  const start = Date.UTC(2026, 10, 1, 12);
  const db = await openDuckDb({ path: ":memory:", log: silentLogger });
  const [topology] = analyticsTopologies({
    sinks: [db],
    topics: [BILLING_TOPIC.name],
    dailyEveryMs: 60_000,
    costs: { reader: db, ratio: 1.5, trailingDays: 7 },
  });
  const d = createTestDriver(topology, { clock: start + 8 * DAY });
  const pipeDay = async (day: number, cost: number) => {
    const r = billingRecord(day, `c${day}`, start + day * DAY, cost);
    await d.pipe(BILLING_TOPIC.name, r.key, r.value);
    await db.flush(); // the host flushes sinks at each checkpoint; the driver leaves it to the test
  };
  try {
    for (let day = 0; day < 7; day++) await pipeDay(day, 10);
    await d.advance(60_000);
    assert.deepEqual(d.forwarded(ALERTS_TOPIC.name), [], "a steady cost raises nothing");
    await pipeDay(7, 100);
    await d.advance(60_000);
    const opened = d.forwarded(ALERTS_TOPIC.name).map((r) => r.value as { type: string; state: string });
    assert.deepEqual(opened.map((a) => [a.type, a.state]), [["CostSpike", "open"]]);
    await pipeDay(8, 10);
    await d.advance(60_000);
    const all = d.forwarded(ALERTS_TOPIC.name).map((r) => (r.value as { state: string }).state);
    assert.deepEqual(all, ["open", "resolved"]);
  } finally {
    await d.close();
    await db.close();
  }
});
