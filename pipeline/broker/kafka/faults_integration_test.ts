/**
 * Faults of the Kafka broker, each against real sockets: a refused address, a host name that does not
 * resolve, a port that accepts but never answers (all: a clear LzError naming the address, in bounded
 * time), a malformed address (rejected before any network), and a real Kafka broker that stops and comes
 * back while a producer and a consumer group keep going — nothing lost, nothing written twice.
 */
import assert from "node:assert/strict";
import { LzError } from "../../errors.ts";
import { createLogger } from "../../log.ts";
import { needs } from "../../testing/env.ts";
import { freePort } from "../../testing/free_port.ts";
import { startKafka } from "../../testing/kafka_server.ts";
import { waitFor } from "../../testing/wait.ts";
import { createKafkaBroker } from "./mod.ts";
import type { Producer } from "../types.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function rejection(p: Promise<unknown>): Promise<{ err: LzError; ms: number }> {
  const t0 = Date.now();
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof LzError, `expected an LzError, got ${err}`);
    return { err, ms: Date.now() - t0 };
  }
  throw new Error("expected a rejection");
}

Deno.test("kafka faults: a refused address fails with the address and what to check, within 20 s (defaults)", async () => {
  const port = freePort(); // nothing listens here now
  const { err, ms } = await rejection(createKafkaBroker({ brokers: [`127.0.0.1:${port}`] }));
  assert.equal(err.code, "BROKER_UNAVAILABLE");
  assert.equal(err.retriable, true);
  assert.equal(
    err.message,
    `Cannot reach Kafka at 127.0.0.1:${port} (ECONNREFUSED); is the broker running? Set broker.brokers in lzsync.yaml`,
  );
  assert.ok(ms > 1_000, `gave up after ${ms} ms: too early to have retried with backoff`);
  assert.ok(ms < 20_000, `took ${ms} ms`);
});

Deno.test("kafka faults: a host name that does not resolve says so", async () => {
  const { err, ms } = await rejection(
    createKafkaBroker({
      brokers: ["no-such-host.invalid:9092"],
      retry: { retries: 1, initialRetryTime: 100 },
    }),
  );
  assert.equal(err.code, "BROKER_UNAVAILABLE");
  assert.match(
    err.message,
    /^Cannot reach Kafka at no-such-host\.invalid:9092 \(ENOTFOUND: the host name does not resolve\)/,
  );
  assert.ok(ms < 15_000, `took ${ms} ms`);
});

Deno.test("kafka faults: a port that accepts but never answers gives up in bounded time", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) conns.push(c); // hold them open, say nothing
  })();
  try {
    const { err, ms } = await rejection(createKafkaBroker({
      brokers: [`127.0.0.1:${port}`],
      connectionTimeoutMs: 500,
      requestTimeoutMs: 1_000,
      retry: { retries: 1, initialRetryTime: 100 },
    }));
    assert.equal(err.code, "BROKER_UNAVAILABLE");
    assert.match(err.message, new RegExp(`^Cannot reach Kafka at 127\\.0\\.0\\.1:${port} \\(`));
    assert.match(err.message, /Set broker\.brokers in lzsync\.yaml$/);
    assert.ok(ms < 15_000, `took ${ms} ms`);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed by the peer */ }
    }
  }
});

Deno.test("kafka faults: malformed addresses are rejected before any connection", async () => {
  for (const bad of [[], [""], ["localhost"], ["127.0.0.1:port"], ["kafka:9092 extra:1"]]) {
    const { err, ms } = await rejection(createKafkaBroker({ brokers: bad }));
    assert.equal(err.code, "CONFIG", `for ${JSON.stringify(bad)}`);
    assert.match(err.message, /broker\.brokers/);
    assert.ok(ms < 100);
  }
});

Deno.test({
  name:
    "kafka faults: a broker that stops and comes back — producer and group consumer retry and resume, no loss, no duplicate writes",
  ignore: needs("kafka"), // it starts its own broker, but only where the test services can run
  fn: async () => {
    const server = await startKafka();
    const lines: string[] = [];
    const logger = createLogger({ level: "warn", sink: (l) => lines.push(l) });
    // Small kafkajs retry budgets, so the outage outlasts them and lzsync's own retry loops take over.
    const broker = await createKafkaBroker({
      brokers: [server.brokers],
      sessionTimeoutMs: 6_000,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
      logger,
    });
    const topic = "faults.restart";
    const seen = new Map<string, number>();
    const consumer = broker.consumer({ groupId: "faults-restart", topics: [topic] });
    let producer: Producer | null = null;
    let fresh: Producer | null = null;
    const values = (from: number, to: number) =>
      Array.from(
        { length: to - from },
        (_, i) => ({ key: `k${from + i}`, value: enc.encode(`v${from + i}`) }),
      );
    try {
      await broker.admin().createTopics([{ name: topic, partitions: 2 }]);
      await consumer.run({
        eachBatch: async (b) => {
          for (const r of b.records) {
            const v = dec.decode(r.value!);
            seen.set(v, (seen.get(v) ?? 0) + 1);
          }
          await consumer.commit([{ topic, partition: b.partition, offset: b.records.at(-1)!.offset + 1 }])
            .catch(() => {}); // a commit lost to the outage only means redelivery
        },
      });
      producer = await broker.producer();
      await producer.send(topic, values(0, 100));
      await waitFor(() => seen.size >= 100, "the first 100 records", 30_000);

      await broker.admin().createTopics([{ name: `${topic}.other`, partitions: 1 }]);
      fresh = await broker.producer();
      await server.halt();
      const during = producer.send(topic, values(100, 200)); // retries while the broker is away
      // A producer that has not sent yet: even its topic metadata lookup has to wait for the broker.
      const first = fresh.send(`${topic}.other`, values(0, 10));
      await new Promise((r) => setTimeout(r, 3_000));
      await server.restart();
      const meta = await during;
      assert.equal(meta.length, 100);
      assert.deepEqual((await first).map((m) => m.offset), Array.from({ length: 10 }, (_, i) => i));
      await producer.send(topic, values(200, 300));
      await waitFor(() => seen.size >= 300, "all 300 records at the consumer", 90_000);

      for (let i = 0; i < 300; i++) assert.ok(seen.has(`v${i}`), `v${i} lost`);
      const written = (await broker.admin().topicOffsets(topic)).reduce((n, o) => n + o.high, 0);
      assert.equal(written, 300, "the idempotent producer wrote each record once");
      const ours = lines.map((l) => JSON.parse(l)).filter((l) => l.brokers === server.brokers);
      assert.ok(ours.some((l) => l.msg === "send failed, retrying"), "the producer's retries were logged");
      assert.ok(
        ours.some((l) => l.msg === "cannot read topic metadata, retrying"),
        "metadata retries were logged",
      );
      assert.ok(
        ours.some((l) => /Cannot reach Kafka at .* \(ECONNREFUSED\)/.test(l.error ?? "")),
        "the log says which address could not be reached",
      );
    } finally {
      await consumer.stop();
      await producer?.close();
      await fresh?.close();
      await broker.close();
      await server.stop();
    }
  },
});
