import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded.ts";
import { encode } from "../../pipeline/serde.ts";
import { type Alert, ALERTS_TOPIC } from "../../schemas/alerts.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { alertText, createAlertNotifier } from "./notifier.ts";

const alert = (state: Alert["state"]): Alert => ({
  id: "ConsecutiveFailures:git",
  type: "ConsecutiveFailures",
  layer: "git",
  state,
  severity: "critical",
  message: "git failed 3 times in a row",
  value: 3,
  threshold: 3,
  opened_at: "2024-05-01T12:00:00.000Z",
  resolved_at: state === "resolved" ? "2024-05-01T12:05:00.000Z" : null,
  updated_at: "2024-05-01T12:00:00.000Z",
});

Deno.test("alert notifier posts Slack-compatible {text} for each open/resolve, retrying a 500", async () => {
  const bodies: { text: string }[] = [];
  let fail = 1;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    if (fail-- > 0) return new Response("oops", { status: 500 });
    bodies.push(body);
    return new Response("ok");
  });
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, { alerts: { slack_webhook_env: "SLACK_URL" } }, {
    SLACK_URL: `http://127.0.0.1:${server.addr.port}/hooks/T000/B000/XXX`,
  });
  let done!: () => void;
  const both = new Promise<void>((r) => (done = r));
  let sent = 0;
  const svc = createAlertNotifier(deps, { onSent: () => ++sent === 2 && done() });
  assert.ok(svc);
  try {
    await svc.start();
    const p = await broker.producer();
    await p.send(ALERTS_TOPIC.name, [
      { key: "ConsecutiveFailures:git", value: encode(ALERTS_TOPIC.name, alert("open")) },
      { key: "ConsecutiveFailures:git", value: encode(ALERTS_TOPIC.name, alert("resolved")) },
    ]);
    await p.close();
    await both;
    assert.deepEqual(bodies.map((b) => b.text), [alertText(alert("open")), alertText(alert("resolved"))]);
    assert.match(bodies[0].text, /ConsecutiveFailures on git — git failed 3 times/);
    assert.match(bodies[1].text, /resolved/);
  } finally {
    await svc.stop();
    await broker.close();
    await server.shutdown();
  }
  assert.equal(createAlertNotifier(testDeps(broker, {})), null, "off without alerts.slack_webhook_env");
});
