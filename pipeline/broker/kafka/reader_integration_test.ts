/**
 * The Kafka reader on a broker with Apache Kafka's default `group.initial.rebalance.delay.ms` (3,000 ms),
 * which the shared test broker sets to 0. A reader that joined a consumer group would wait that delay on
 * every start (each restore, each gateway start); a group-less reader delivers at once.
 */
import assert from "node:assert/strict";
import { needs } from "../../testing/env.ts";
import { startKafka } from "../../testing/kafka_server.ts";
import { waitFor } from "../../testing/wait.ts";
import { createKafkaBroker } from "./mod.ts";
import type { Batch } from "../types.ts";

const enc = new TextEncoder();

/** Milliseconds from `run` to the first batch that holds `want` records in all, per start position. */
async function firstRecordsMs(
  broker: Awaited<ReturnType<typeof createKafkaBroker>>,
  topic: string,
  from: "earliest" | { topic: string; partition: number; offset: number }[],
  want: number,
): Promise<number> {
  const reader = broker.reader({ topics: [topic], from });
  let got = 0;
  let done!: () => void;
  const reached = new Promise<void>((r) => (done = r));
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await reader.run((b: Batch) => {
      got += b.records.length;
      if (got >= want) done();
      return Promise.resolve();
    });
    await Promise.race([
      reached,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`only ${got} of ${want} records after 20 s`)), 20_000);
      }),
    ]);
    return performance.now() - t0;
  } finally {
    clearTimeout(timer);
    await reader.stop();
  }
}

Deno.test({
  name:
    "kafka reader: delivers a topic's first records well under the broker's 3 s initial rebalance delay, " +
    "redelivers after a failed eachBatch and carries on after a broker restart",
  ignore: needs("kafka"),
  fn: async () => {
    const server = await startKafka({ groupInitialRebalanceDelayMs: 3_000 });
    try {
      const broker = await createKafkaBroker({ brokers: [server.brokers], clientId: "lzsync-reader-start" });
      try {
        const topic = "reader.start";
        await broker.admin().createTopics([{ name: topic, partitions: 3 }]);
        const producer = await broker.producer();
        try {
          await producer.send(
            topic,
            Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: enc.encode(`v${i}`) })),
          );
        } finally {
          await producer.close();
        }
        const times: number[] = [];
        for (let i = 0; i < 3; i++) times.push(await firstRecordsMs(broker, topic, "earliest", 30));
        const explicit = [0, 1, 2].map((partition) => ({ topic, partition, offset: 0 }));
        times.push(await firstRecordsMs(broker, topic, explicit, 30));
        console.log(`reader start to 30 records (ms): ${times.map((t) => t.toFixed(0)).join(", ")}`);
        for (const t of times) assert.ok(t < 1_500, `reader took ${t.toFixed(0)} ms (limit 1,500 ms)`);

        // A failed eachBatch gets the same records again; a broker that goes away and comes back is
        // retried (metadata refresh, backoff) and reading carries on where it was.
        const seen = new Map<string, number>();
        let failOnce = true;
        const reader = broker.reader({ topics: [topic], from: "earliest" });
        try {
          await reader.run((b: Batch) => {
            if (failOnce) {
              failOnce = false;
              return Promise.reject(new Error("handler failure on purpose"));
            }
            for (const r of b.records) {
              const k = `${r.partition}:${r.offset}`;
              seen.set(k, (seen.get(k) ?? 0) + 1);
            }
            return Promise.resolve();
          });
          await waitFor(() => seen.size >= 30, "30 records after a failed batch", 30_000);
          assert.ok([...seen.values()].every((n) => n === 1), "each record once after the redelivery");
          await server.halt();
          await new Promise((r) => setTimeout(r, 500));
          await server.restart();
          const p2 = await broker.producer();
          try {
            await p2.send(
              topic,
              Array.from({ length: 9 }, (_, i) => ({ key: `n${i}`, value: enc.encode(`n${i}`) })),
            );
          } finally {
            await p2.close();
          }
          await waitFor(() => seen.size >= 39, "9 records written after the broker restarted", 60_000);
          assert.equal(seen.size, 39);
        } finally {
          await reader.stop();
        }
      } finally {
        await broker.close();
      }
    } finally {
      await server.stop();
    }
  },
});
