import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { createEmbeddedBroker } from "../broker/embedded/mod.ts";
import type { Broker } from "../broker/types.ts";
import { LzError } from "../errors.ts";
import { silentLogger } from "../log.ts";
import { decode, encodeJson } from "../serde.ts";
import { digestGroup } from "../digest.ts";
import { createProcessorHost } from "./host.ts";
import { FakeClock } from "./driver.ts";
import { changelogTopic, type ProcessorContext, type Topology } from "./types.ts";
import { DLQ_TOPIC, type DlqRecord } from "../../schemas/dlq.ts";
import { counterTopology, COUNTS_STORE } from "../../processors/counter/mod.ts";
import { TEST_COUNTS_TOPIC } from "../../pipeline/testing/test_topics.ts";
import { caughtUp, EVENTS, produceEvents, readCounts, sorted } from "./_test_util.ts";
import { sleep, waitFor } from "../testing/wait.ts";

Deno.test("host counts every event exactly once; its digest equals the digest read from the changelog", async () => {
  const broker = await createEmbeddedBroker();
  const topo = counterTopology("count-basic");
  const expected = await produceEvents(broker, 5000, 50);
  const host = createProcessorHost({ broker, log: silentLogger }, topo);
  try {
    await host.start();
    await waitFor(() => caughtUp(broker, topo.app), "caught up");
    assert.deepEqual(sorted(await readCounts(broker, topo.app)), sorted(expected));
    assert.deepEqual(host.assigned(), [0, 1, 2, 3]);
    const d = await digestGroup({ broker, group: topo.app });
    assert.equal(d.digest, host.digest());
    assert.deepEqual(d.stores.map((s) => [s.store, s.keys]), [[COUNTS_STORE, 50]]);
  } finally {
    await host.stop();
    await broker.close();
  }
});

Deno.test("host coalesces forwards to a compacted output to the last value per key and checkpoint", async () => {
  const broker = await createEmbeddedBroker();
  const topo = counterTopology("count-coalesce");
  await produceEvents(broker, 3000, 10);
  const host = createProcessorHost({ broker, log: silentLogger }, topo);
  try {
    await host.start();
    await waitFor(() => caughtUp(broker, topo.app), "caught up");
    const highs = await broker.admin().topicOffsets(TEST_COUNTS_TOPIC.name);
    const produced = highs.reduce((n, o) => n + o.high, 0);
    assert.ok(produced < 3000, `expected coalesced output, got ${produced} records for 3000 events`);
    const last = new Map<string, number>();
    const reader = broker.reader({ topics: [TEST_COUNTS_TOPIC.name] });
    let seen = 0;
    await reader.run((b) => {
      for (const r of b.records) {
        last.set(r.key!, decode<{ count: number }>(TEST_COUNTS_TOPIC.name, r.value)!.count);
        seen++;
      }
      return Promise.resolve();
    });
    await waitFor(() => seen >= produced, "read outputs");
    await reader.stop();
    assert.deepEqual(sorted(last), sorted(await readCounts(broker, topo.app)));
  } finally {
    await host.stop();
    await broker.close();
  }
});

Deno.test("host tells a sink once the checkpoint's outputs are acknowledged, before the changelog", async () => {
  const broker = await createEmbeddedBroker();
  const base = counterTopology("count-sink-produced");
  const high = async (topic: string) =>
    (await broker.admin().topicOffsets(topic)).reduce((n, o) => n + o.high, 0);
  const calls: string[] = [];
  const seen: { outputs: number; changelog: number }[] = [];
  const topo: Topology = {
    ...base,
    sinks: [{
      name: "probe",
      flush: () => (calls.push("flush"), Promise.resolve()),
      async produced() {
        calls.push("produced");
        seen.push({
          outputs: await high(TEST_COUNTS_TOPIC.name),
          changelog: await high(changelogTopic(base.app, COUNTS_STORE)),
        });
      },
    }],
  };
  await produceEvents(broker, 10, 1); // one key: one task does all the work
  const host = createProcessorHost({ broker, log: silentLogger }, topo);
  try {
    await host.start();
    await waitFor(() => caughtUp(broker, topo.app), "caught up");
    assert.deepEqual(calls.slice(0, 2), ["flush", "produced"]);
    assert.ok(seen[0].outputs >= 1, "the first checkpoint's outputs are on their topic");
    assert.equal(seen[0].changelog, 0, "its changelog records are not written yet");
    assert.ok(await high(changelogTopic(base.app, COUNTS_STORE)) >= 1);
  } finally {
    await host.stop();
    await broker.close();
  }
});

Deno.test("host fires punctuations on the injected clock at tick() and checkpoints their effects", async () => {
  const broker = await createEmbeddedBroker();
  const clock = new FakeClock(0);
  const topo: Topology = {
    app: "punct-host",
    inputs: [EVENTS],
    stores: ["seen"],
    outputs: [TEST_COUNTS_TOPIC.name],
    create: () => ({
      init(ctx) {
        ctx.schedule(60_000, () => {
          const n = ctx.store<number>("seen").size;
          if (n > 0) {
            ctx.forward(TEST_COUNTS_TOPIC.name, `p${ctx.partition}`, { id: `p${ctx.partition}`, count: n });
          }
        });
      },
      process(rec, ctx) {
        ctx.store<number>("seen").put(rec.key!, 1);
      },
    }),
  };
  await produceEvents(broker, 100, 20);
  const host = createProcessorHost({ broker, log: silentLogger, clock }, topo, { tickMs: 10_000 });
  try {
    await host.start();
    await waitFor(() => caughtUp(broker, topo.app), "caught up");
    const outputs = async () =>
      (await broker.admin().topicOffsets(TEST_COUNTS_TOPIC.name)).reduce((n, o) => n + o.high, 0);
    await host.tick();
    assert.equal(await outputs(), 0);
    clock.advance(60_000);
    await host.tick();
    assert.equal(await outputs(), 4);
  } finally {
    await host.stop();
    await broker.close();
  }
});

Deno.test("host exports processed, DLQ and lag metrics to a prom-client registry", async () => {
  const broker = await createEmbeddedBroker();
  const registry = new Registry();
  const topo = counterTopology("count-metrics");
  await produceEvents(broker, 1000, 10);
  const p = await broker.producer();
  await p.send(EVENTS, [{ key: "bad", value: new TextEncoder().encode("nope") }]);
  await p.close();
  const host = createProcessorHost({ broker, log: silentLogger, metrics: registry }, topo);
  try {
    await host.start();
    await waitFor(() => caughtUp(broker, topo.app), "caught up");
    const text = await registry.metrics();
    assert.match(
      text,
      /lzsync_records_processed_total\{app="count-metrics",topic="lz.test.events.v1"\} 1001/,
    );
    assert.match(text, /lzsync_dlq_records_total\{app="count-metrics",topic="lz.test.events.v1"\} 1/);
    assert.match(
      text,
      /lzsync_consumer_lag_records\{app="count-metrics",topic="lz.test.events.v1",partition="0"\} 0/,
    );
    assert.match(text, /lzsync_processing_seconds_count\{app="count-metrics"\} [1-9]/);
    assert.deepEqual(host.stats().dlq, 1);
  } finally {
    await host.stop();
    await broker.close();
  }
});

Deno.test("host counts the DLQ records a processor forwards itself (like lzsync-portal-repo) in its DLQ metric and stats", async () => {
  const broker = await createEmbeddedBroker();
  const registry = new Registry();
  const clock = new FakeClock(0);
  const dead = (ctx: ProcessorContext, rec: { partition: number; offset: number }, error: string): void => {
    const dlq: DlqRecord = {
      error,
      error_code: "REFUSED",
      stage: "self-dlq",
      attempts: 1,
      source: { topic: EVENTS, partition: rec.partition, offset: rec.offset },
      original: { key: null, value_base64: null, headers: {} },
      failed_at: new Date(ctx.now()).toISOString(),
    };
    ctx.forward(DLQ_TOPIC.name, `${EVENTS}/${rec.partition}/${rec.offset}`, dlq);
  };
  const topo: Topology = {
    app: "self-dlq",
    inputs: [EVENTS],
    stores: [],
    outputs: [DLQ_TOPIC.name],
    create: () => ({
      init(ctx) {
        // a punctuation that gives up on something, as the portal topology does when the Portal refuses
        ctx.schedule(60_000, () => {
          if (ctx.partition === 0) dead(ctx, { partition: 0, offset: -1 }, "refused at a punctuation");
        });
      },
      process(rec, ctx) {
        if (rec.key === "k0") dead(ctx, rec, "refused while processing");
      },
    }),
  };
  await produceEvents(broker, 10, 5); // k0 twice
  const host = createProcessorHost({ broker, log: silentLogger, metrics: registry, clock }, topo, {
    tickMs: 10_000,
  });
  try {
    await host.start();
    await waitFor(() => caughtUp(broker, topo.app), "caught up");
    const dlqRecords = async () => (await broker.admin().topicOffsets(DLQ_TOPIC.name))[0].high;
    assert.equal(await dlqRecords(), 2);
    clock.advance(60_000);
    await host.tick();
    assert.equal(await dlqRecords(), 3);
    assert.match(
      await registry.metrics(),
      /lzsync_dlq_records_total\{app="self-dlq",topic="lz.test.events.v1"\} 3/,
    );
    assert.deepEqual(host.stats(), { processed: 10, dlq: 3, restored: 0 });
  } finally {
    await host.stop();
    await broker.close();
  }
});

Deno.test("host start fails with a clear message for an undeclared topic that does not exist", async () => {
  const broker = await createEmbeddedBroker();
  const topo: Topology = { ...counterTopology("bad-topo"), inputs: ["lz.nope.v1"] };
  const host = createProcessorHost({ broker, log: silentLogger }, topo);
  try {
    await assert.rejects(
      host.start(),
      /lz\.nope\.v1, which is not declared in schemas\/mod\.ts.*lzsync topics create/,
    );
  } finally {
    await host.stop();
    await broker.close();
  }
});

/** Wraps a broker so that producer sends and commits fail while `outage.sends` / `outage.commits` > 0. */
function withOutage(broker: Broker, outage: { sends: number; commits: number }): Broker {
  const down = (what: string) =>
    Promise.reject(new LzError("BROKER_UNAVAILABLE", `injected outage: ${what}`, { retriable: true }));
  return {
    kind: broker.kind,
    address: broker.address,
    admin: () => broker.admin(),
    reader: (o) => broker.reader(o),
    close: () => broker.close(),
    async producer() {
      const p = await broker.producer();
      return {
        send: (t, r) => (outage.sends > 0 && outage.sends-- > 0 ? down("send") : p.send(t, r)),
        close: () => p.close(),
      };
    },
    consumer(o) {
      const c = broker.consumer(o);
      const commit = c.commit.bind(c);
      c.commit = (offs) => (outage.commits > 0 && outage.commits-- > 0 ? down("commit") : commit(offs));
      return c;
    },
  };
}

Deno.test("host retries checkpoints through a broker outage and gives up a fenced commit without double counting", async () => {
  const inner = await createEmbeddedBroker();
  const outage = { sends: 0, commits: 0 };
  const broker = withOutage(inner, outage);
  const topo = counterTopology("count-outage");
  const expected = await produceEvents(inner, 2000, 20);
  const host = createProcessorHost({ broker, log: silentLogger }, topo, {
    maxBatchSize: 100,
    checkpointBackoffMs: 5,
  });
  try {
    outage.sends = 4; // the first checkpoints fail to produce, then the broker is back
    await host.start();
    await waitFor(() => caughtUp(inner, topo.app), "caught up after the outage");
    assert.equal(outage.sends, 0);
    for (const [k, v] of await produceEvents(inner, 2000, 20)) expected.set(k, expected.get(k)! + v);
    outage.commits = 6; // more than the commit retries: one checkpoint's commit is abandoned, its batch redelivered
    await waitFor(() => caughtUp(inner, topo.app), "caught up after the lost commit", 20_000);
    assert.equal(outage.commits, 0);
    assert.deepEqual(sorted(await readCounts(inner, topo.app)), sorted(expected));
  } finally {
    await host.stop();
    await inner.close();
  }
});

Deno.test("host processes the next batch while a batch's commit is in flight; commits stay in order, each after its changelog", async () => {
  const broker = await createEmbeddedBroker();
  const topo = counterTopology(`count-deferred-commit-${crypto.randomUUID().slice(0, 8)}`);
  const changelog = changelogTopic(topo.app, COUNTS_STORE);
  const high = async (topic: string) =>
    (await broker.admin().topicOffsets(topic)).reduce((n, o) => n + o.high, 0);
  const gate = Promise.withResolvers<void>();
  const commits: { changelogHigh: number; outputsHigh: number }[] = [];
  const host = createProcessorHost({ broker, log: silentLogger }, topo, {
    async beforeCommit() {
      commits.push({ changelogHigh: await high(changelog), outputsHigh: await high(TEST_COUNTS_TOPIC.name) });
      if (commits.length === 1) await gate.promise; // the first commit hangs until released
    },
  });
  const producer = await broker.producer();
  let counted = 0; // the latest count of key one0 on the output topic
  const outputs = broker.reader({ topics: [TEST_COUNTS_TOPIC.name] });
  try {
    await produceEvents(broker, 1, 1, { prefix: "one" });
    await host.start();
    await outputs.run((b) => {
      for (const r of b.records) {
        if (r.key === "one0") counted = decode<{ count: number }>(TEST_COUNTS_TOPIC.name, r.value)!.count;
      }
      return Promise.resolve();
    });
    await waitFor(() => commits.length === 1, "the first batch's commit");
    await producer.send(EVENTS, [{ key: "one0", value: encodeJson({ id: "one0", n: 1 }) }]);
    // Fails on a host whose batch waits for its commit: the second record is not processed until the gate opens.
    await waitFor(() => counted === 2, "the second record counted while the first commit hangs");
    await sleep(100);
    assert.equal(commits.length, 1, "the second commit waits for the first");
    gate.resolve();
    await waitFor(() => caughtUp(broker, topo.app), "caught up");
    assert.deepEqual(commits, [{ changelogHigh: 1, outputsHigh: 1 }, { changelogHigh: 2, outputsHigh: 2 }]);
    assert.deepEqual(sorted(await readCounts(broker, topo.app)), [["one0", 2]]);
  } finally {
    gate.resolve();
    await outputs.stop();
    await producer.close();
    await host.stop();
    await broker.close();
  }
});
