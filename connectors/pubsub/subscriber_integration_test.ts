/**
 * The subscriber against Google's Pub/Sub emulator and a real Kafka broker: ack after produce, nack and
 * redelivery, malformed to the DLQ, the welcome message, and duplicates.
 */
import assert from "node:assert/strict";
import { needs, requireKafka, requirePubsub } from "../../pipeline/testing/env.ts";
import { createKafkaBroker } from "../../pipeline/broker/kafka/mod.ts";
import type { Broker } from "../../pipeline/broker/types.ts";
import { createTestDriver } from "../../pipeline/processor/driver.ts";
import { assetsTopology } from "../../processors/assets/mod.ts";
import { createPubsubSubscriber, type PubsubSubscriberOptions } from "./subscriber.ts";
import { collect, emulatorTopic } from "./test_util.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";

const ignore = needs("kafka", "pubsub");
const opts = {}; // sanitizers on: the subscriber closes every stream and timer it opens

function feedMessage(name: string, updateTime: string) {
  return {
    asset: {
      name: `//compute.googleapis.com/projects/web-prod/global/firewalls/${name}`,
      assetType: "compute.googleapis.com/Firewall",
      updateTime,
      ancestors: ["projects/111"],
      resource: {
        location: "global",
        data: { name, sourceRanges: ["0.0.0.0/0"], allowed: [{ IPProtocol: "tcp", ports: ["22"] }] },
      },
    },
    priorAssetState: "DOES_NOT_EXIST",
    window: { startTime: updateTime },
  };
}

async function setup() {
  const broker: Broker = await createKafkaBroker({ brokers: [requireKafka()], clientId: "pubsub-it" });
  const t = await emulatorTopic(requirePubsub());
  const events = await collect(broker, "lz.infra.events.v1");
  const dlq = await collect(broker, "lz.dlq.v1");
  const mine = () => events.json().filter((e) => e?.subscription?.endsWith(`/${t.subscription}`));
  const start = async (extra: Partial<PubsubSubscriberOptions> = {}) => {
    const s = createPubsubSubscriber(testDeps(broker), {
      projectId: t.projectId,
      subscription: t.subscription,
      maxMessages: 50,
      emulatorHost: requirePubsub(),
      reportIntervalMs: 60_000,
      ...extra,
    });
    await s.start();
    return s;
  };
  return {
    broker,
    t,
    events,
    dlq,
    mine,
    start,
    async cleanup() {
      await events.stop();
      await dlq.stop();
      await t.cleanup();
      await broker.close();
    },
  };
}

Deno.test({
  name:
    "pubsub: feed message produced then acked; welcome skipped; malformed to the DLQ and acked — none redelivered",
  ignore,
  ...opts,
  fn: async () => {
    const s = await setup();
    try {
      const sub = await s.start();
      const good = await s.t.publish(feedMessage("allow-ssh", "2024-05-01T10:00:00Z"));
      await s.t.publish("You have successfully configured real time feed 'lz' on project 'web-prod'");
      const bad = await s.t.publish("{this is not json", { source: "test" });
      await waitFor(
        () => sub.stats().produced === 1 && sub.stats().malformed === 1 && sub.stats().skipped === 1,
        "3 messages handled",
      );
      await waitFor(() => s.mine().length === 1, "the event on Kafka");
      const ev = s.mine()[0];
      assert.equal(ev.type, "asset_feed");
      assert.equal(ev.message_id, good);
      assert.deepEqual(ev.asset.data.sourceRanges, ["0.0.0.0/0"]);
      await waitFor(() => s.dlq.json().some((d) => d.original.key === bad), "the DLQ record");
      const d = s.dlq.json().find((x) => x.original.key === bad);
      assert.match(d.error, /not JSON/);
      assert.equal(d.source.topic, `pubsub:projects/${s.t.projectId}/subscriptions/${s.t.subscription}`);
      assert.equal(atob(d.original.value_base64), "{this is not json");
      assert.deepEqual(d.original.headers, { source: "test" });
      await sub.stop();
      // A new subscriber gets nothing: every message was acked (an unacked one is nacked by close, at once).
      const again = await s.start();
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(again.stats().received, 0);
      await again.stop();
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "pubsub: a failed produce nacks; the redelivered message is produced exactly once",
  ignore,
  ...opts,
  fn: async () => {
    const s = await setup();
    try {
      let failures = 0;
      const sub = await s.start({
        beforeProduce() {
          if (failures++ === 0) throw new Error("broker unavailable (injected)");
        },
      });
      const id = await s.t.publish(feedMessage("fw-redeliver", "2024-05-01T11:00:00Z"));
      await waitFor(() => sub.stats().produced === 1, "the redelivered message produced");
      assert.equal(sub.stats().nacked, 1);
      assert.equal(sub.stats().received, 2, "delivered twice: once nacked, once produced");
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(s.mine().map((e) => e.message_id), [id]);
      await sub.stop();
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name:
    "pubsub: duplicates of one message id have no second effect (same process: no produce; new process: no state change)",
  ignore,
  ...opts,
  fn: async () => {
    const s = await setup();
    try {
      // Same process: the produce succeeded but the ack was lost (nack): the redelivery is acked, not produced.
      let first = true;
      const a = await s.start({
        afterProduce() {
          if (!first) return "ack";
          first = false;
          return "nack";
        },
      });
      const id1 = await s.t.publish(feedMessage("fw-dup", "2024-05-01T12:00:00Z"));
      await waitFor(() => a.stats().duplicates === 1, "the redelivery seen as a duplicate");
      assert.equal(a.stats().produced, 1);
      await a.stop();
      // Another process: A produced but died before acking; B produces the redelivery again.
      const b1 = await s.start({ afterProduce: () => "drop" });
      const id2 = await s.t.publish(feedMessage("fw-dup2", "2024-05-01T12:05:00Z"));
      await waitFor(() => b1.stats().produced === 1, "first delivery produced");
      await b1.stop(); // close nacks the unacked message
      const b2 = await s.start();
      await waitFor(() => b2.stats().produced === 1, "redelivery produced by the second process");
      await b2.stop();
      await waitFor(() => s.mine().length === 3, "three events on Kafka");
      assert.deepEqual(s.mine().map((e) => e.message_id), [id1, id2, id2]);
      // The assets processor gives the duplicate no effect.
      const driver = createTestDriver(assetsTopology());
      for (const e of s.mine()) await driver.pipe("lz.infra.events.v1", e.asset.name, e);
      const changes = driver.forwarded("lz.assets.v1").map((
        r,
      ) => (r.value as { type: string; message_id: string }));
      assert.deepEqual(changes.map((c) => [c.type, c.message_id]), [["resource_created", id1], [
        "resource_created",
        id2,
      ]]);
      await driver.close();
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "pubsub: against the emulator a missing topic and subscription are created, then messages flow",
  ignore,
  ...opts,
  fn: async () => {
    const broker: Broker = await createKafkaBroker({
      brokers: [requireKafka()],
      clientId: "pubsub-it-create",
    });
    const id = crypto.randomUUID().slice(0, 8);
    const events = await collect(broker, "lz.infra.events.v1");
    const sub = createPubsubSubscriber(testDeps(broker), {
      projectId: "lzsync-test",
      subscription: `fresh-${id}`,
      maxMessages: 10,
      emulatorHost: requirePubsub(),
      createIfMissing: { topic: `fresh-topic-${id}` },
    });
    const t = await emulatorTopic(requirePubsub(), "unused");
    try {
      await sub.start();
      const topic = t.client.topic(`fresh-topic-${id}`);
      const msgId = await topic.publishMessage({
        data: new TextEncoder().encode(
          JSON.stringify(feedMessage(`fresh-${id}`, "2024-05-01T13:00:00Z")),
        ) as unknown as Buffer,
      });
      await waitFor(
        () => events.json().some((e) => e?.message_id === msgId),
        "the event from the created subscription",
      );
      await sub.stop();
      await t.client.subscription(`fresh-${id}`).delete();
      await topic.delete();
    } finally {
      await sub.stop();
      await events.stop();
      await t.cleanup();
      await broker.close();
    }
  },
});

Deno.test({
  name: "pubsub: flow control holds at most max_messages outstanding while none is settled",
  ignore,
  ...opts,
  fn: async () => {
    const s = await setup();
    try {
      // Produced but never acked: each stays outstanding, so the library must stop delivering at 3.
      const sub = await s.start({ maxMessages: 3, afterProduce: () => "drop" });
      for (let i = 0; i < 10; i++) await s.t.publish(feedMessage(`fc-${i}`, "2024-05-01T14:00:00Z"));
      await waitFor(() => sub.stats().received >= 3, "three deliveries");
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(sub.stats().received, 3);
      await sub.stop();
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "pubsub: the layer reports into sync status — items, publish and receipt times, and heartbeats",
  ignore,
  ...opts,
  fn: async () => {
    const s = await setup();
    const reports = await collect(s.broker, "lz.sync.events.v1");
    try {
      const sub = await s.start({ reportIntervalMs: 300 });
      const mine = () =>
        reports.json().filter((r) => r?.layer === "pubsub" && r.ref?.endsWith(`/${s.t.subscription}`));
      await s.t.publish(feedMessage("fw-report", "2024-05-01T15:00:00Z"));
      await waitFor(() => mine().some((r) => r.items === 1), "a report with the message");
      const r = mine().find((x) => x.items === 1);
      assert.equal(r.ok, true);
      assert.ok(r.event_time && r.received_at);
      assert.ok(r.event_time <= r.received_at && r.received_at <= r.finished_at, JSON.stringify(r));
      assert.ok(Date.parse(r.finished_at) - Date.parse(r.event_time) < 5_000, "publish → on Kafka latency");
      await waitFor(() => mine().some((x) => x.items === 0 && x.ok), "an idle heartbeat");
      await sub.stop();
    } finally {
      await reports.stop();
      await s.cleanup();
    }
  },
});
