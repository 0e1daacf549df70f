/** The gateway on the real Kafka broker: views, snapshot, live, and a resume whose gap is read from Kafka. */
import assert from "node:assert/strict";
import { createKafkaBroker } from "../../pipeline/broker/kafka/mod.ts";
import { needs, requireKafka } from "../../pipeline/testing/env.ts";
import type { LiveEvent } from "./plugin.ts";
import { LiveClient, openSse, startTestGateway } from "./testing.ts";

Deno.test({
  name: "gateway on Kafka: snapshot, live, SSE, and a resume older than the ring read back from Kafka",
  ignore: needs("kafka"),
  fn: async () => {
    const run = crypto.randomUUID().slice(0, 8);
    const STATE = `gw.kafka.state.${run}`, EVENTS = `gw.kafka.events.${run}`;
    const broker = await createKafkaBroker({ brokers: requireKafka().split(","), clientId: "gateway-test" });
    const t = await startTestGateway({
      broker,
      plugins: [{ name: "kafka", compactedTopics: [STATE], eventTopics: [EVENTS] }],
      options: { ringSize: 20 },
    }).catch(async (err) => {
      await broker.close();
      throw err;
    });
    try {
      await t.produce(STATE, "a", { v: 1 });
      await t.produce(STATE, "b", { v: 1 });
      await t.produce(STATE, "a", { v: 2 });
      const deadline = Date.now() + 15_000;
      while (
        t.gateway.hub.position(STATE, 0) + t.gateway.hub.position(STATE, 1) +
            t.gateway.hub.position(STATE, 2) < 3
      ) {
        if (Date.now() > deadline) throw new Error("the view never saw the produced records");
        await new Promise((r) => setTimeout(r, 20));
      }
      const c1 = await LiveClient.open(t.wsUrl);
      await c1.waitFor((f) => f.type === "snapshot-end");
      assert.deepEqual(
        c1.frames.filter((f) => f.snapshot).map((f) => [f.key, f.data]).sort(),
        [["a", { v: 2 }], ["b", { v: 1 }]],
      );
      const sse = await openSse(`${t.url}/api/v1/events?topic=${EVENTS}`);
      for (let n = 0; n < 10; n++) await t.produce(EVENTS, `k${n}`, { n }, n % 3);
      await c1.waitFor((f) => f.topic === EVENTS, 15_000, 10);
      await c1.close();
      const kept = c1.live().slice(0, 4);
      for (let n = 10; n < 100; n++) await t.produce(EVENTS, `k${n}`, { n }, n % 3);
      const c2 = await LiveClient.open(t.wsUrl, { topic: [EVENTS, STATE], cursor: kept.at(-1)!.cursor });
      try {
        await c2.waitFor((f) => f.topic === EVENTS, 30_000, 96);
        const ns = (fs: LiveEvent[]) => fs.map((f) => (f.data as { n: number }).n);
        assert.deepEqual(
          [...ns(kept), ...ns(c2.live().filter((f) => f.topic === EVENTS))].sort((a, b) => a - b),
          Array.from({ length: 100 }, (_, i) => i),
          "no gap, no duplicate",
        );
        const metrics = await (await fetch(`${t.url}/metrics`)).text();
        assert.match(metrics, /lzsync_gateway_catchup_reads_total\{source="broker"\} [1-9]/);
        while (sse.frames.filter((f) => f.data.topic === EVENTS).length < 100) {
          if (Date.now() > deadline + 30_000) throw new Error("SSE client did not get all events");
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await c2.close();
        await sse.stop();
      }
    } finally {
      await t.stop();
      await broker.close();
    }
  },
});
