import assert from "node:assert/strict";
import { createTestDriver } from "../../pipeline/processor/driver.ts";
import { resolveConfig } from "../../pipeline/config.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";
import { SYNC_STATUS_TOPIC, type SyncStatus } from "../../schemas/sync_status.ts";
import { type Alert, ALERTS_TOPIC } from "../../schemas/alerts.ts";
import { ALERTS_STORE, syncStatusOptions, syncStatusTopology } from "./mod.ts";

const T0 = Date.UTC(2024, 4, 1, 12);
const iso = (ms: number) => new Date(ms).toISOString();
const options = () => syncStatusOptions(resolveConfig({ layers: { pubsub: { enabled: true } } }).config);
let n = 0;
const event = (now: number, o: Partial<SyncEvent> = {}): SyncEvent => ({
  id: `e${++n}`,
  layer: "git",
  ok: true,
  items: 3,
  started_at: iso(now - 1000),
  finished_at: iso(now),
  ...o,
});

function setup() {
  const d = createTestDriver(syncStatusTopology(options()), { clock: T0 });
  const send = (o: Partial<SyncEvent> = {}) =>
    d.pipe(SYNC_EVENTS_TOPIC.name, o.layer ?? "git", event(d.clock.now(), o));
  const statuses = (layer = "git") =>
    d.forwarded(SYNC_STATUS_TOPIC.name).filter((r) => r.key === layer).map((r) => r.value as SyncStatus);
  const alerts = () => d.forwarded(ALERTS_TOPIC.name).map((r) => r.value as Alert);
  const lastStatus = (layer = "git") => statuses(layer).at(-1)!;
  return { d, send, statuses, alerts, lastStatus };
}

Deno.test("sync-status reports last sync, items, latency and success rate of a layer", async () => {
  const { d, send, lastStatus } = setup();
  await send({ commit_time: iso(T0 - 42_000), received_at: iso(T0 - 2_000) });
  const firstId = `e${n}`;
  const s = lastStatus();
  assert.deepEqual(
    [s.status, s.last_sync, s.items_synced, s.success_rate, s.attempts, s.freshness_seconds, s.window],
    ["ok", iso(T0), 3, 1, 1, 0, "1h"],
  );
  assert.deepEqual(s.latency_seconds.source_to_materialized, { last: 42, p95: 42, max: 42, count: 1 });
  assert.deepEqual(s.latency_seconds.receipt_to_materialized, { last: 2, p95: 2, max: 2, count: 1 });
  assert.equal(s.next_sync, iso(T0 + 6 * 3600_000), "git: last attempt + layers.git.interval");
  // a redelivered report counts once
  await d.pipe(SYNC_EVENTS_TOPIC.name, "git", { ...event(T0), id: firstId });
  assert.equal(lastStatus().attempts, 1);
  // freshness moves on the punctuation, re-emitted at least every minute
  await d.advance(120_000);
  assert.equal(lastStatus().freshness_seconds, 120);
  // every layer gets a status: disabled bigquery, idle pubsub
  assert.equal(lastStatus("bigquery").status, "disabled");
  assert.equal(lastStatus("pubsub").status, "idle");
});

Deno.test("sync-status opens ConsecutiveFailures and SyncFailure, then resolves them", async () => {
  const { d, send, alerts, lastStatus } = setup();
  await send();
  for (let i = 0; i < 3; i++) {
    d.clock.advance(1000);
    await send({ ok: false, error: "cannot fetch: HTTP 503", items: 0 });
  }
  assert.equal(lastStatus().status, "failing");
  assert.equal(lastStatus().consecutive_failures, 3);
  assert.equal(lastStatus().last_error, "cannot fetch: HTTP 503");
  const opened = alerts().map((a) => [a.type, a.state, a.layer]);
  assert.deepEqual(opened, [["SyncFailure", "open", "git"], ["ConsecutiveFailures", "open", "git"]]);
  assert.match(alerts()[1].message, /failed 3 times in a row; last error: cannot fetch/);
  assert.equal(alerts()[0].value, 0.5, "opened at the first failure: 1 of 2 succeeded");

  d.clear();
  await send();
  assert.deepEqual(alerts().map((a) => [a.type, a.state]), [["ConsecutiveFailures", "resolved"]]);
  assert.equal(lastStatus().status, "degraded", "success rate 2/5 is still below 95%");
  // the failures leave the 1 h window: SyncFailure resolves on a punctuation
  await d.advance(3600_000 + 15_000);
  assert.deepEqual(alerts().map((a) => [a.type, a.state]), [
    ["ConsecutiveFailures", "resolved"],
    ["SyncFailure", "resolved"],
  ]);
  assert.equal(
    d.store<Alert>(ALERTS_STORE).get("SyncFailure:git")?.state,
    "open",
    "a punctuation runs on the wall clock and leaves the stores to the records",
  );
  d.clear();
  await send();
  assert.deepEqual(alerts().map((a) => [a.type, a.state]), [["SyncFailure", "resolved"]]);
  assert.equal(d.store<Alert>(ALERTS_STORE).get("SyncFailure:git")?.state, "resolved");
});

Deno.test("sync-status: SyncLatency over 300 s opens, a fast sync resolves it", async () => {
  const { d, send, alerts } = setup();
  await send({ layer: "webhook", received_at: iso(T0 - 301_000) });
  assert.deepEqual(alerts().map((a) => [a.type, a.layer, a.state, a.value]), [[
    "SyncLatency",
    "webhook",
    "open",
    301,
  ]]);
  d.clock.advance(5000);
  await send({ layer: "webhook", received_at: iso(d.clock.now() - 500) });
  assert.deepEqual(alerts().map((a) => [a.type, a.state]), [["SyncLatency", "open"], [
    "SyncLatency",
    "resolved",
  ]]);
});

Deno.test("sync-status: DataFreshness for a polled layer past max(6 h, interval + 5 min), never for webhooks", async () => {
  const { d, send, alerts, lastStatus } = setup();
  await send();
  await send({ layer: "webhook" });
  await d.advance(6 * 3600_000 + 4 * 60_000);
  // api (5 min poll) never synced in the 6 h watched: its limit is max(6 h, 10 min) = 6 h
  assert.deepEqual(alerts().map((x) => [x.type, x.layer, x.state]), [["DataFreshness", "api", "open"]]);
  assert.match(alerts()[0].message, /has not synced successfully/);
  d.clear();
  await d.advance(2 * 60_000);
  // git (6 h poll) alerts only past 6 h + 5 min, so a poll that runs on time never does
  assert.deepEqual(alerts().map((x) => [x.type, x.layer, x.state]), [["DataFreshness", "git", "open"]]);
  assert.equal(lastStatus().status, "degraded");
  d.clear();
  await send();
  assert.deepEqual(alerts().map((x) => [x.type, x.layer, x.state]), [["DataFreshness", "git", "resolved"]]);
});
