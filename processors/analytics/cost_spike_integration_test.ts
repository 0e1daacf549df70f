/**
 * The cost-spike alert across restarts and a replay, on the embedded broker and on Kafka: the analytics group
 * (DuckDB sink, billing rows) and the alert notifier posting to a loopback webhook. A spike opens once and is
 * posted once; a restart during it, and a replay rebuilding it into a fresh DuckDB file, post nothing again;
 * a spike that ends while the group is stopped is resolved at its next start, with the open alert's opened_at,
 * and so is one that ends before a replay (the rebuild reads the open episode from the alerts topic).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Broker, ProduceRecord } from "../../pipeline/broker/types.ts";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { needs, requireKafka } from "../../pipeline/testing/env.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { encode } from "../../pipeline/serde.ts";
import { digestGroup, topologyState } from "../../pipeline/digest.ts";
import { replay } from "../../pipeline/replay.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import { decode } from "../../pipeline/serde.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { TOPICS } from "../../schemas/mod.ts";
import { type Alert, ALERTS_NOTIFIED_TOPIC, ALERTS_TOPIC } from "../../schemas/alerts.ts";
import { BILLING_TOPIC } from "../../schemas/billing.ts";
import { billingRecord, DAY } from "../../connectors/duckdb/_fixtures.ts";
import { type DuckDbAnalytics, openDuckDb } from "../../connectors/duckdb/engine.ts";
import type { AnalyticsSink } from "../../pipeline/analytics/sink.ts";
import { alertNotifierTopology, webhookPoster } from "../../connectors/slack/notifier.ts";
import { analyticsTopologies } from "./mod.ts";

async function committedAll(broker: Broker, group: string, topic: string): Promise<boolean> {
  const admin = broker.admin();
  const [highs, committed] = await Promise.all([
    admin.topicOffsets(topic),
    admin.fetchCommitted(group, [topic]),
  ]);
  return highs.every((h) =>
    h.high === 0 || (committed.find((c) => c.partition === h.partition)?.offset ?? 0) >= h.high
  );
}

async function scenario(broker: Broker): Promise<void> {
  const tag = crypto.randomUUID().slice(0, 8);
  const id = `CostSpike:analytics-${tag}`;
  // Days of this run's own (a shared Kafka holds other runs' billing rows; the sink keeps only this run's):
  // seven steady days, a spike on the eighth; a random year so that no other run's alert texts match.
  const start = Date.UTC(2000 + Math.floor(Math.random() * 20), Math.floor(Math.random() * 12), 1, 12);
  const day = (d: number) => new Date(start + d * DAY).toISOString().slice(0, 10);
  const posts: string[] = [];
  const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    posts.push(((await req.json()) as { text: string }).text);
    return new Response("ok");
  });
  const mine = () => posts.filter((t) => [7, 8, 9, 10].some((d) => t.includes(`on ${day(d)} `)));
  const dir = await Deno.makeTempDir({ prefix: "lzsync-cost-spike-" });
  const dbs: DuckDbAnalytics[] = [await openDuckDb({ path: join(dir, "first.duckdb"), log: silentLogger })];
  const cur = () => dbs.at(-1)!;
  let refreshes = 0;
  const sink: AnalyticsSink = {
    name: "duckdb",
    add: (r) => r.key?.startsWith(tag) && cur().add(r),
    refreshDaily: async (now) => {
      await cur().refreshDaily(now);
      refreshes++;
    },
    flush: () => cur().flush(),
  };
  const [built] = analyticsTopologies({
    sinks: [sink],
    topics: [BILLING_TOPIC.name],
    dailyEveryMs: 50,
    costs: { reader: { query: (sql) => cur().query(sql) }, ratio: 1.5, trailingDays: 7, alertId: id },
  });
  const analytics: Topology = { ...built, app: `it-cost-spike-${tag}` };
  const notifier: Topology = {
    ...alertNotifierTopology({
      post: webhookPoster(`http://127.0.0.1:${hook.addr.port}/hook`),
      maxAgeMs: 15 * 60_000,
      backoffMs: 10,
    }) as Topology,
    app: `it-cost-spike-notifier-${tag}`,
  };
  const topics = [BILLING_TOPIC.name, ALERTS_TOPIC.name, ALERTS_NOTIFIED_TOPIC.name];
  await broker.admin().createTopics(topics.map((name) => {
    const t = TOPICS.get(name)!;
    return { name, partitions: t.partitions, compacted: t.compacted };
  }));
  const bill = async (days: [number, number][]) => {
    const p = await broker.producer();
    try {
      for (const [d, cost] of days) {
        const r = billingRecord(0, `${tag}-${d}`, start + d * DAY, cost);
        const rec: ProduceRecord = {
          key: r.key,
          value: encode(BILLING_TOPIC.name, r.value),
          timestamp: Date.now(),
        };
        await p.send(BILLING_TOPIC.name, [rec]);
      }
    } finally {
      await p.close();
    }
  };
  const alerts = async () => {
    const out: Alert[] = [];
    await readTopicToEnd(broker, ALERTS_TOPIC.name, (r) => {
      if (r.key === id && r.value) out.push(decode(ALERTS_TOPIC.name, r.value) as Alert);
    });
    return out;
  };
  // Runs the analytics group until it has every billing row and ran its check a few times after that.
  const runAnalytics = async (until: () => Promise<boolean> = () => Promise.resolve(true)) => {
    const host = createProcessorHost({ broker, log: silentLogger }, analytics, { retries: 1, backoffMs: 10 });
    await host.start();
    try {
      await waitFor(
        () => committedAll(broker, analytics.app, BILLING_TOPIC.name),
        "billing rows committed",
        60_000,
      );
      const seen = refreshes;
      await waitFor(async () => refreshes >= seen + 3 && await until(), "checks after catching up", 60_000);
    } finally {
      await host.stop();
    }
    await waitFor(
      async () => (await broker.admin().describeGroup(analytics.app)).members.length === 0,
      "analytics left",
      60_000,
    );
  };
  const notified = () =>
    waitFor(() => committedAll(broker, notifier.app, ALERTS_TOPIC.name), "alerts read", 60_000);
  const notifierHost = createProcessorHost({ broker, log: silentLogger }, notifier, {
    retries: 1,
    backoffMs: 10,
  });
  const spike = 500 + Math.floor(Math.random() * 400);
  try {
    await notifierHost.start();
    await bill([[0, 10], [1, 10], [2, 10], [3, 10], [4, 10], [5, 10], [6, 10], [7, spike]]);
    await runAnalytics(async () => (await alerts()).length > 0);
    await notified();
    await waitFor(() => mine().length === 1, "the spike posted", 30_000, mine);
    assert.match(
      mine()[0],
      new RegExp(`CostSpike on analytics — billing cost on ${day(7)} was ${spike}\\.00`),
    );
    const [opened] = await alerts();

    // A restart during the spike: the store says it is open, nothing is said again.
    await runAnalytics();
    await notified();
    assert.equal(mine().length, 1, "a restart posts the open spike again");
    const afterRestart = await alerts();
    assert.deepEqual(afterRestart.map((a) => [a.state, a.opened_at]), [["open", opened.opened_at]]);
    assert.equal(
      opened.opened_at,
      `${day(7)}T00:00:00.000Z`,
      "the episode is named by the spike's first day",
    );

    // A replay into a fresh DuckDB file: the store is dropped and rebuilt, the same alert found again.
    const before = await digestGroup({ broker, ...topologyState(analytics) });
    assert.equal(before.stores[0]?.keys, 1, "the open spike is in the store");
    await replay({
      broker,
      group: analytics.app,
      to: "earliest",
      inputs: analytics.inputs,
      stores: analytics.stores,
    });
    dbs.push(await openDuckDb({ path: join(dir, "rebuilt.duckdb"), log: silentLogger }));
    await runAnalytics();
    const after = await digestGroup({ broker, ...topologyState(analytics) });
    assert.equal(after.digest, before.digest);
    await notified();
    for (const a of await alerts()) assert.equal(a.opened_at, opened.opened_at, "no new episode");
    assert.equal(mine().length, 1, "the replay posts the open spike again");

    // The spike ends while the group is stopped: its next start resolves the episode it opened.
    await bill([[8, 10]]);
    await runAnalytics(async () => (await alerts()).at(-1)?.state === "resolved");
    await notified();
    await waitFor(() => mine().length === 2, "the resolve posted", 30_000, mine);
    assert.match(mine()[1], new RegExp(`resolved: CostSpike on analytics — billing cost on ${day(8)} `));
    const resolved = (await alerts()).at(-1)!;
    assert.equal(resolved.opened_at, opened.opened_at, "the resolve belongs to the open episode");
    assert.equal((await digestGroup({ broker, ...topologyState(analytics) })).stores[0]?.keys ?? 0, 0);

    // A second spike that ends while the group is stopped, then a replay into a fresh file: the store is
    // dropped, the rebuild takes the open episode from what the alerts topic shows and resolves it.
    await bill([[9, spike * 3]]);
    await runAnalytics(async () => (await alerts()).at(-1)?.state === "open");
    await notified();
    await waitFor(() => mine().length === 3, "the second spike posted", 30_000, mine);
    const second = (await alerts()).at(-1)!;
    assert.equal(second.opened_at, `${day(9)}T00:00:00.000Z`);
    await bill([[10, 10]]);
    await replay({
      broker,
      group: analytics.app,
      to: "earliest",
      inputs: analytics.inputs,
      stores: analytics.stores,
    });
    dbs.push(await openDuckDb({ path: join(dir, "again.duckdb"), log: silentLogger }));
    await runAnalytics(async () => (await alerts()).at(-1)?.state === "resolved");
    await notified();
    await waitFor(() => mine().length === 4, "the second resolve posted", 30_000, mine);
    assert.match(mine()[3], new RegExp(`resolved: CostSpike on analytics — billing cost on ${day(10)} `));
    assert.equal((await alerts()).at(-1)!.opened_at, second.opened_at, "the resolve of the second episode");
    assert.equal(mine().length, 4, "nothing else posted");
  } finally {
    await notifierHost.stop();
    await hook.shutdown();
    for (const db of dbs) await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("embedded: a cost spike is posted once across a restart and a replay, and resolved after one", async () => {
  const broker = await createEmbeddedBroker({ logger: silentLogger });
  try {
    await scenario(broker);
  } finally {
    await broker.close();
  }
});

Deno.test({
  name: "kafka: a cost spike is posted once across a restart and a replay, and resolved after one",
  ignore: needs("kafka"),
  async fn() {
    const { createBroker } = await import("../../pipeline/broker/mod.ts");
    const broker = await createBroker({
      kind: "kafka",
      brokers: requireKafka().split(","),
      clientId: "cost-spike-it",
      logger: silentLogger,
    });
    try {
      await scenario(broker);
    } finally {
      await broker.close();
    }
  },
});
