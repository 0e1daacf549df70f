/**
 * Batch byte limits on the real Kafka broker that `deno task test` starts: a topic whose `max.message.bytes`
 * is 64 KiB takes a 400 KiB send (split by bytes, as read from the broker), a record that can never fit is
 * refused before anything of its send is written, and the processor host routes such a record to the DLQ
 * with the reason and moves on (it used to retry the checkpoint forever).
 */
import assert from "node:assert/strict";
import { LzError } from "../../errors.ts";
import { silentLogger } from "../../log.ts";
import { needs, requireKafka } from "../../testing/env.ts";
import { waitFor } from "../../testing/wait.ts";
import { decode } from "../../serde.ts";
import { createProcessorHost } from "../../processor/host.ts";
import type { Topology } from "../../processor/types.ts";
import { DLQ_TOPIC, type DlqRecord } from "../../../schemas/dlq.ts";
import { createKafkaBroker } from "./mod.ts";
import { readTopicToEnd } from "../read_topic.ts";
import { type Broker, RECORD_TOO_LARGE } from "../types.ts";

const ignore = needs("kafka");
const enc = new TextEncoder();
const LIMIT = 64 * 1024;

const uniq = (prefix: string) => `kt.${prefix}.${Date.now().toString(36)}${crypto.randomUUID().slice(0, 6)}`;

async function withKafka(fn: (b: Broker) => Promise<void>): Promise<void> {
  const b = await createKafkaBroker({ brokers: requireKafka().split(","), logger: silentLogger });
  try {
    await fn(b);
  } finally {
    await b.close();
  }
}

async function count(b: Broker, topic: string): Promise<number> {
  return (await b.admin().topicOffsets(topic)).reduce((n, o) => n + o.high, 0);
}

Deno.test({
  name: "kafka: a 400 KiB send to a topic limited to 64 KiB per batch is split by bytes; offsets stay exact",
  ignore,
  fn: () =>
    withKafka(async (b) => {
      const topic = uniq("split");
      await b.admin().createTopics([{
        name: topic,
        partitions: 1,
        config: { "max.message.bytes": `${LIMIT}` },
      }]);
      const producer = await b.producer();
      try {
        const value = (i: number) => enc.encode(JSON.stringify({ i, pad: "x".repeat(1000) }));
        const metas = await producer.send(
          topic,
          Array.from({ length: 400 }, (_, i) => ({ key: "k", value: value(i) })),
        );
        assert.deepEqual(metas.map((m) => m.offset), Array.from({ length: 400 }, (_, i) => i));
        const seen: number[] = [];
        await readTopicToEnd(b, topic, (r) => seen.push(JSON.parse(new TextDecoder().decode(r.value!)).i));
        assert.deepEqual(seen, Array.from({ length: 400 }, (_, i) => i), "every record, in order");
      } finally {
        await producer.close();
      }
    }),
});

Deno.test({
  name:
    "kafka: a send holding a record over the topic's max.message.bytes is refused whole, naming the record",
  ignore,
  fn: () =>
    withKafka(async (b) => {
      const topic = uniq("toolarge");
      await b.admin().createTopics([{
        name: topic,
        partitions: 1,
        config: { "max.message.bytes": `${LIMIT}` },
      }]);
      const producer = await b.producer();
      try {
        const small = { key: "a", value: enc.encode("{}") };
        const big = { key: "b", value: new Uint8Array(LIMIT) };
        await assert.rejects(
          producer.send(topic, [small, big, small]),
          (e: LzError) =>
            e.code === RECORD_TOO_LARGE && !e.retriable && (e.detail!.indices as number[]).join() === "1" &&
            /max\.message\.bytes of 65536/.test(e.message),
        );
        assert.equal(await count(b, topic), 0, "nothing of the refused send was written");
        await producer.send(topic, [small]);
        assert.equal(await count(b, topic), 1, "the producer goes on");
      } finally {
        await producer.close();
      }
    }),
});

Deno.test({
  name:
    "kafka: the host sends a checkpoint larger than max.message.bytes in pieces and a record that never fits to the DLQ",
  ignore,
  fn: () =>
    withKafka(async (b) => {
      const input = uniq("in");
      const output = uniq("out");
      await b.admin().createTopics([
        { name: input, partitions: 1 },
        { name: output, partitions: 1, config: { "max.message.bytes": `${LIMIT}` } },
      ]);
      const app = uniq("app").replaceAll(".", "-");
      const pad = "y".repeat(1000);
      const topo: Topology<{ n: number; big?: boolean }> = {
        app,
        inputs: [input],
        outputs: [output],
        stores: [],
        description: "fans each input out to n 1 KiB records (and one 100 KiB record when big)",
        create: () => ({
          process(rec, ctx) {
            const v = rec.value!;
            for (let i = 0; i < v.n; i++) ctx.forward(output, `${rec.offset}-${i}`, { pad });
            if (v.big) ctx.forward(output, `${rec.offset}-big`, { pad: pad.repeat(100) });
          },
        }),
      };
      const producer = await b.producer();
      await producer.send(input, [
        { key: "a", value: enc.encode(JSON.stringify({ n: 300 })) },
        { key: "a", value: enc.encode(JSON.stringify({ n: 1, big: true })) },
        { key: "a", value: enc.encode(JSON.stringify({ n: 50 })) },
      ]);
      await producer.close();
      const host = createProcessorHost({ broker: b, log: silentLogger }, topo, { retries: 1, backoffMs: 10 });
      await host.start();
      try {
        await waitFor(async () => await count(b, output) >= 351, "351 outputs", 30_000, () => host.stats());
        await waitFor(
          async () => (await b.admin().fetchCommitted(app, [input]))[0]?.offset === 3,
          "input committed to its end",
          30_000,
        );
        const dlq: DlqRecord[] = [];
        await readTopicToEnd(b, DLQ_TOPIC.name, (r) => {
          const d = decode<DlqRecord>(DLQ_TOPIC.name, r.value)!;
          if (d.stage === app) dlq.push(d);
        });
        assert.equal(dlq.length, 1);
        assert.equal(dlq[0].error_code, RECORD_TOO_LARGE);
        assert.equal(dlq[0].original.key, "1-big");
        assert.equal(dlq[0].source.topic, output);
        assert.match(dlq[0].error, /max\.message\.bytes of 65536/);
        assert.equal(await count(b, output), 351, "every record that fits, once");
      } finally {
        await host.stop();
      }
    }),
});
