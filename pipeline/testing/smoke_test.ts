import assert from "node:assert/strict";
import { needs, requireKafka, requirePubsub } from "./env.ts";

Deno.test({
  name: "with_services starts a Kafka broker that accepts connections",
  ignore: needs("kafka"),
  fn: async () => {
    const [host, port] = requireKafka().split(":");
    const c = await Deno.connect({ hostname: host, port: Number(port) });
    c.close();
    assert.ok(Number(port) > 0);
  },
});

Deno.test({
  name: "with_services starts the Pub/Sub emulator",
  ignore: needs("pubsub"),
  fn: async () => {
    const res = await fetch(`http://${requirePubsub()}/v1/projects/lzsync-test/topics`);
    await res.body?.cancel();
    assert.equal(res.status, 200);
  },
});
