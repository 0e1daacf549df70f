/**
 * Runtime bench: the stateful count processor (`processors/counter/`) through the processor host on the
 * embedded broker and on Kafka (against a bare kafkajs produce→consume loop on the same broker, same run),
 * and the restore of a 100,000-key store from its changelog.
 *
 * Kafka: `LZSYNC_TEST_KAFKA_BROKERS` when set, otherwise a broker started here like the tests start it.
 * `LZSYNC_BENCH_QUICK=1` shrinks the event counts for a run well under 30 s; `LZSYNC_BENCH_BROKER=embedded`
 * or `kafka` runs one broker's cases only.
 */
import type { BenchResult } from "./types.ts";
import type { Broker, ProduceRecord } from "../pipeline/broker/types.ts";
import { createBroker } from "../pipeline/broker/mod.ts";
import { silentLogger } from "../pipeline/log.ts";
import { encodeJson } from "../pipeline/serde.ts";
import { createProcessorHost } from "../pipeline/processor/host.ts";
import { MemoryStore } from "../pipeline/processor/store.ts";
import { restoreStores } from "../pipeline/processor/restore.ts";
import { counterTopology, COUNTS_STORE } from "../processors/counter/mod.ts";
import { TEST_COUNTS_TOPIC, TEST_EVENTS_TOPIC } from "../pipeline/testing/test_topics.ts";
import { bareKafkajsLoop } from "./kafka_baseline.ts";
import { startKafka } from "../pipeline/testing/kafka_server.ts";

const EVENTS = TEST_EVENTS_TOPIC.name;
const quick = Deno.env.get("LZSYNC_BENCH_QUICK") === "1";
const only = Deno.env.get("LZSYNC_BENCH_BROKER");
const PAD = "x".repeat(64);

/** Event values of about 100 bytes over 1,000 keys, like the bare kafkajs loop's records. */
function events(from: number, to: number, keys = 1000): ProduceRecord[] {
  const out: ProduceRecord[] = [];
  for (let i = from; i < to; i++) {
    const id = `k${i % keys}`;
    out.push({ key: id, value: encodeJson({ id, n: i, payload: PAD }) });
  }
  return out;
}

async function produce(broker: Broker, n: number, keys = 1000, batch = 2000): Promise<void> {
  const p = await broker.producer();
  try {
    for (let i = 0; i < n; i += batch) await p.send(EVENTS, events(i, Math.min(n, i + batch), keys));
  } finally {
    await p.close();
  }
}

/** Deletes the bench's topics so each case starts empty (Kafka keeps them between runs). */
async function fresh(broker: Broker): Promise<void> {
  const admin = broker.admin();
  const names = [EVENTS, TEST_COUNTS_TOPIC.name];
  const existing = (await admin.listTopics()).filter((t) => names.includes(t));
  if (existing.length) await admin.deleteTopics(existing);
  for (let i = 0; i < 300 && (await admin.listTopics()).some((t) => names.includes(t)); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await admin.createTopics([{ name: EVENTS, partitions: TEST_EVENTS_TOPIC.partitions }]);
}

/**
 * Runs the counter until `n` input records are checkpointed (outputs, changelog and commits acknowledged).
 * With `preload` the events are written first and the clock starts at `start()`; otherwise the host joins
 * first and the events are produced while it runs (the bare kafkajs loop's shape). Returns events/s.
 */
async function countRate(broker: Broker, n: number, preload: boolean): Promise<number> {
  await fresh(broker);
  const topo = counterTopology(`bench-count-${crypto.randomUUID().slice(0, 8)}`);
  if (preload) await produce(broker, n);
  const committed = new Map<number, number>();
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const host = createProcessorHost({ broker, log: silentLogger }, topo, {
    onCheckpoint: (e) => {
      for (const c of e.commits) committed.set(c.partition, c.offset);
      let sum = 0;
      for (const v of committed.values()) sum += v;
      if (sum >= n) done();
    },
  });
  let t0 = performance.now();
  try {
    await host.start();
    if (!preload) {
      for (let i = 0; i < 200 && host.assigned().length < TEST_EVENTS_TOPIC.partitions; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      t0 = performance.now();
      await produce(broker, n);
    }
    await finished;
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await host.stop();
  }
}

/** Builds a 100k-key counts store through the counter, then times restoring all its partitions. */
async function restoreSeconds(broker: Broker, keys: number): Promise<number> {
  await fresh(broker);
  const topo = counterTopology(`bench-restore-${crypto.randomUUID().slice(0, 8)}`);
  await produce(broker, keys, keys, 5000);
  const committed = new Map<number, number>();
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const host = createProcessorHost({ broker, log: silentLogger }, topo, {
    onCheckpoint: (e) => {
      for (const c of e.commits) committed.set(c.partition, c.offset);
      if ([...committed.values()].reduce((a, b) => a + b, 0) >= keys) done();
    },
  });
  await host.start();
  await finished;
  await host.stop();
  const targets = Array.from({ length: TEST_EVENTS_TOPIC.partitions }, (_, p) => ({
    partition: p,
    stores: new Map([[COUNTS_STORE, new MemoryStore(COUNTS_STORE)]]),
  }));
  const t0 = performance.now();
  await restoreStores(broker, topo.app, targets, silentLogger);
  const s = (performance.now() - t0) / 1000;
  const restored = targets.reduce((n, t) => n + t.stores.get(COUNTS_STORE)!.size, 0);
  if (restored !== keys) throw new Error(`restore found ${restored} keys, expected ${keys}`);
  return s;
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const nEmbedded = quick ? 100_000 : 400_000;
  const nKafka = quick ? 50_000 : 200_000;
  const restoreKeys = 100_000;

  if (only !== "kafka") results.push(...await embeddedCases(nEmbedded, restoreKeys));
  if (only !== "embedded") results.push(...await kafkaCases(nKafka, restoreKeys));
  return results;
}

async function embeddedCases(nEmbedded: number, restoreKeys: number): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const embedded = await createBroker({ kind: "embedded", logger: silentLogger });
  try {
    await countRate(embedded, 20_000, true); // warm-up (JIT)
    const rate = await countRate(embedded, nEmbedded, true);
    results.push({
      name: "count processor, embedded",
      value: rate,
      unit: "events/s",
      target: ">= 200,000 events/s",
      pass: rate >= 200_000,
    });
    const live = await countRate(embedded, nEmbedded, false);
    results.push({
      name: "count processor, embedded, produced while running",
      value: live,
      unit: "events/s",
    });
    const s = await restoreSeconds(embedded, restoreKeys);
    results.push({
      name: "restore 100k-key store, embedded",
      value: s,
      unit: "s",
      target: "< 5 s",
      pass: s < 5,
    });
  } finally {
    await embedded.close();
  }
  return results;
}

async function kafkaCases(nKafka: number, restoreKeys: number): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  let server: { brokers: string; stop(): Promise<void> } | null = null;
  let brokers = Deno.env.get("LZSYNC_TEST_KAFKA_BROKERS");
  if (!brokers) {
    server = await startKafka();
    brokers = server.brokers;
  }
  try {
    const kafka = await createBroker({
      kind: "kafka",
      brokers: brokers.split(","),
      clientId: "bench-runtime",
      logger: silentLogger,
    });
    try {
      const bare = await bareKafkajsLoop(brokers.split(","), nKafka);
      const rate = await countRate(kafka, nKafka, false);
      results.push({
        name: "count processor, kafka",
        value: rate,
        unit: "events/s",
        baseline: { name: "bare kafkajs produce→consume", value: bare },
        ratio: rate / bare,
        target: ">= 0.5 of bare kafkajs",
        pass: rate / bare >= 0.5,
      });
      const s = await restoreSeconds(kafka, restoreKeys);
      results.push({
        name: "restore 100k-key store, kafka",
        value: s,
        unit: "s",
        target: "< 5 s",
        pass: s < 5,
      });
    } finally {
      await kafka.close();
    }
  } finally {
    await server?.stop();
  }
  return results;
}

if (import.meta.main) console.log(await run());
