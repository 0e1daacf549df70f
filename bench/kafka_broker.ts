/**
 * Kafka broker layer: the same produce→consume loop as the bare kafkajs baseline, but through lzsync's
 * Broker API (idempotent producer with per-record metadata, group consumer with manual commits), measured
 * in the same run against `bareKafkajsLoop` on the same broker (stock kafkajs), and against the same bare
 * loop with lzsync's transport tuning (TCP_NODELAY, fast varint encoding), which isolates what the layer
 * itself costs.
 *
 * Kafka: `LZSYNC_TEST_KAFKA_BROKERS` when set, otherwise a broker started here like the tests start it.
 * `LZSYNC_BENCH_QUICK=1` shrinks the counts.
 */
import type { BenchResult } from "./types.ts";
import { bareKafkajsLoop, benchValue } from "./kafka_baseline.ts";
import { createKafkaBroker } from "../pipeline/broker/kafka/mod.ts";
import type { Broker, ProduceRecord } from "../pipeline/broker/types.ts";
import { silentLogger } from "../pipeline/log.ts";
import { startKafka } from "../pipeline/testing/kafka_server.ts";

/**
 * Produces `n` records through the lzsync producer while an lzsync group consumer reads them and commits
 * after each batch; returns n / (first send → n-th record consumed) in events/s.
 */
export async function brokerLoop(broker: Broker, n: number, sendBatch = 2_000): Promise<number> {
  const id = crypto.randomUUID().slice(0, 8);
  const topic = `bench.broker.${id}`;
  const admin = broker.admin();
  await admin.createTopics([{ name: topic, partitions: 4 }]);
  const values = Array.from({ length: 1000 }, (_, i) => benchValue(i));
  const producer = await broker.producer();
  const consumer = broker.consumer({ groupId: `bench-broker-${id}`, topics: [topic] });
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  try {
    await consumer.run({
      eachBatch: async (b) => {
        for (const r of b.records) if (r.value) seen++;
        await consumer.commit([{ topic, partition: b.partition, offset: b.records.at(-1)!.offset + 1 }]);
        if (seen >= n) done();
      },
    });
    const t0 = performance.now();
    for (let i = 0; i < n; i += sendBatch) {
      const records: ProduceRecord[] = [];
      for (let j = i; j < Math.min(n, i + sendBatch); j++) {
        records.push({ key: `k${j % 1000}`, value: values[j % 1000] });
      }
      await producer.send(topic, records);
    }
    await finished;
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await consumer.stop();
    await producer.close();
    await admin.deleteTopics([topic]).catch(() => {});
  }
}

export async function run(): Promise<BenchResult[]> {
  const quick = Deno.env.get("LZSYNC_BENCH_QUICK") === "1";
  const n = quick ? 50_000 : 200_000;
  let server: { brokers: string; stop(): Promise<void> } | null = null;
  let brokers = Deno.env.get("LZSYNC_TEST_KAFKA_BROKERS");
  if (!brokers) {
    server = await startKafka();
    brokers = server.brokers;
  }
  const list = brokers.split(",");
  const broker = await createKafkaBroker({ brokers: list, clientId: "bench-broker", logger: silentLogger });
  try {
    await brokerLoop(broker, 10_000); // warm-up (JIT, connections)
    const bare = await bareKafkajsLoop(list, n);
    const layer = await brokerLoop(broker, n);
    const tuned = await bareKafkajsLoop(list, n, { tuned: true });
    return [
      {
        name: "broker pass-through (produce→consume→commit), kafka",
        value: layer,
        unit: "events/s",
        baseline: { name: "bare kafkajs produce→consume", value: bare },
        ratio: layer / bare,
        target: ">= 0.8 of bare kafkajs",
        pass: layer / bare >= 0.8,
      },
      {
        name: "broker pass-through vs bare kafkajs with lzsync's transport tuning",
        value: layer,
        unit: "events/s",
        baseline: { name: "bare kafkajs, TCP_NODELAY + fast varints", value: tuned },
        ratio: layer / tuned,
      },
    ];
  } finally {
    await broker.close();
    await server?.stop();
  }
}

if (import.meta.main) console.log(await run());
