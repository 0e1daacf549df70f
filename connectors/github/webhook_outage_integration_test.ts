/**
 * A broker outage seen from GitHub's side, against a real Kafka broker that this test starts and halts:
 * `/readyz` turns 503 naming the broker, a push delivery answers 503 within `layers.webhook.produce_timeout`
 * (default 8 s, inside GitHub's 10 s) instead of hanging, and once Kafka is back both recover and a
 * redelivery of the failed delivery is accepted.
 */
import assert from "node:assert/strict";
import { needs } from "../../pipeline/testing/env.ts";
import { startKafka } from "../../pipeline/testing/kafka_server.ts";
import { createKafkaBroker } from "../../pipeline/broker/kafka/mod.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { resolveConfig } from "../../pipeline/config.ts";
import { startTestGateway } from "../gateway/testing.ts";
import { deliverWebhook, pushPayload } from "./deliver.ts";
import { githubWebhookPlugin, WEBHOOK_PATH } from "./webhook.ts";

const SECRET = "outage-secret";
const A = "a".repeat(40), B = "b".repeat(40);

const payload = () =>
  pushPayload({
    fullName: "acme/lz",
    cloneUrl: "https://github.example/acme/lz.git",
    before: A,
    after: B,
    commits: [{ id: B, message: "docs", timestamp: "2024-05-01T12:00:00Z", modified: ["docs/a.md"] }],
  });

async function readyz(url: string): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.json() };
}

Deno.test("layers.webhook.produce_timeout defaults to 8 s", () => {
  assert.equal(resolveConfig({}).config.layers.webhook.produce_timeout, "8s");
});

Deno.test({
  name: "broker outage: /readyz is 503 naming the broker, a push answers 503 within 8 s, both recover",
  ignore: needs("kafka"), // it starts its own broker, but only where the test services can run
  fn: async () => {
    const server = await startKafka();
    const broker = await createKafkaBroker({ brokers: [server.brokers] });
    const t = await startTestGateway({
      plugins: [githubWebhookPlugin({ github: null })],
      env: { GITHUB_WEBHOOK_SECRET: SECRET },
      broker,
      options: { brokerHealth: { intervalMs: 500, timeoutMs: 1_000 } },
    });
    const hook = `${t.url}${WEBHOOK_PATH}`;
    try {
      const ok = await deliverWebhook(hook, payload(), { secret: SECRET, deliveryId: "before" });
      assert.equal(ok.status, 202);
      assert.equal((await readyz(t.url)).status, 200);

      await server.halt();
      await waitFor(
        async () => (await readyz(t.url)).status === 503,
        "/readyz 503 during the outage",
        10_000,
      );
      const r = await readyz(t.url);
      assert.equal(r.body.status, "not_ready");
      assert.equal(r.body.detail.broker.reachable, false);
      assert.equal(r.body.detail.broker.address, broker.address);

      const t0 = Date.now();
      const during = await deliverWebhook(hook, payload(), { secret: SECRET, deliveryId: "during" });
      const ms = Date.now() - t0;
      assert.equal(during.status, 503, JSON.stringify(during.body));
      assert.equal(during.body.error, "unavailable");
      assert.match(String(during.body.reason), /did not acknowledge the event within 8s of receipt/);
      assert.ok(ms >= 7_000 && ms < 9_500, `answered after ${ms} ms; GitHub gives up at 10 s`);

      await server.restart();
      await waitFor(async () => (await readyz(t.url)).status === 200, "/readyz 200 again", 60_000);
      await waitFor(
        async () =>
          (await deliverWebhook(hook, payload(), { secret: SECRET, deliveryId: "during" })).status < 300,
        "the redelivery accepted",
        60_000,
      );
    } finally {
      await t.stop();
      await broker.close();
      await server.stop();
    }
  },
});
