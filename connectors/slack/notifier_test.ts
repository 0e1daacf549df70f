import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import type { Broker } from "../../pipeline/broker/types.ts";
import { decode, encode } from "../../pipeline/serde.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { type Alert, ALERTS_TOPIC } from "../../schemas/alerts.ts";
import { DLQ_TOPIC, type DlqRecord } from "../../schemas/dlq.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { replay } from "../../pipeline/replay.ts";
import { runToEnd } from "../../pipeline/testing/run_to_end.ts";
import { alertText, createAlertNotifier } from "./notifier.ts";

const alert = (state: Alert["state"], id = "ConsecutiveFailures:git"): Alert => ({
  id,
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

/** A webhook receiver: `answer` decides the status of each request (after recording its body). */
function receiver(answer: (n: number, body: { text: string }) => number) {
  const bodies: { text: string }[] = [];
  let n = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    const status = answer(n++, body);
    if (status < 300) bodies.push(body);
    return new Response(status < 300 ? "ok" : "no", { status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hooks/T000/B000/XXX`,
    bodies,
    stop: () => server.shutdown(),
  };
}

async function readDlq(broker: Broker): Promise<DlqRecord[]> {
  const out: DlqRecord[] = [];
  const high = (await broker.admin().topicOffsets(DLQ_TOPIC.name)).reduce((n, o) => n + o.high, 0);
  if (!high) return out;
  const reader = broker.reader({ topics: [DLQ_TOPIC.name] });
  await reader.run((b) => {
    for (const r of b.records) out.push(decode<DlqRecord>(DLQ_TOPIC.name, r.value)!);
    return Promise.resolve();
  });
  await waitFor(() => out.length >= high, "DLQ read");
  await reader.stop();
  return out;
}

Deno.test("alert notifier is a processor: posts Slack-compatible {text} for each open/resolve, retrying a 500", async () => {
  const hook = receiver((n) => (n === 0 ? 500 : 200));
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, { alerts: { slack_webhook_env: "SLACK_URL" } }, { SLACK_URL: hook.url });
  let sent = 0;
  const topo = createAlertNotifier(deps, { backoffMs: 5, onSent: () => sent++ });
  assert.ok(topo);
  const host = createProcessorHost({ broker, log: silentLogger, metrics: deps.metrics }, topo as Topology);
  try {
    await host.start();
    const p = await broker.producer();
    await p.send(ALERTS_TOPIC.name, [
      { key: "ConsecutiveFailures:git", value: encode(ALERTS_TOPIC.name, alert("open")) },
      { key: "ConsecutiveFailures:git", value: encode(ALERTS_TOPIC.name, alert("resolved")) },
    ]);
    await p.close();
    await waitFor(() => sent === 2, "two posts");
    assert.deepEqual(hook.bodies.map((b) => b.text), [
      alertText(alert("open")),
      alertText(alert("resolved")),
    ]);
    assert.match(hook.bodies[0].text, /ConsecutiveFailures on git — git failed 3 times/);
    assert.match(hook.bodies[1].text, /resolved/);
    const text = await deps.metrics.metrics();
    assert.match(text, /lzsync_alert_notifications_total\{outcome="ok"\} 2/);
  } finally {
    await host.stop();
    await broker.close();
    await hook.stop();
  }
  assert.equal(createAlertNotifier(testDeps(broker, {})), null, "off without alerts.slack_webhook_env");
});

Deno.test("alert notifier: a webhook that refuses (400), a malformed record and retries spent all go to the DLQ with the reason; the URL is never in it", async () => {
  // The first alert is refused for good (400); the second meets a webhook that is down (503) past the retries.
  const hook = receiver((_n, body) => (body.text.includes("Refused") ? 400 : 503));
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, { alerts: { slack_webhook_env: "SLACK_URL" } }, { SLACK_URL: hook.url });
  const topo = createAlertNotifier(deps, { retries: 2, backoffMs: 5 })!;
  const host = createProcessorHost({ broker, log: silentLogger, metrics: deps.metrics }, topo as Topology, {
    backoffMs: 1,
  });
  try {
    await host.start();
    const p = await broker.producer();
    await p.send(ALERTS_TOPIC.name, [
      { key: "a", value: encode(ALERTS_TOPIC.name, { ...alert("open", "a"), message: "Refused" }) },
      { key: "b", value: encode(ALERTS_TOPIC.name, alert("open", "b")) },
      { key: "c", value: new TextEncoder().encode("{not json") },
    ]);
    await p.close();
    await waitFor(async () => (await readDlq(broker)).length === 3, "three DLQ records", 20_000);
    const dlq = await readDlq(broker);
    const byOffset = new Map(dlq.map((d) => [d.source.offset, d]));
    assert.equal(byOffset.get(0)!.error_code, "NOTIFY_FAILED");
    assert.match(byOffset.get(0)!.error, /cannot post alert a: the webhook answered 400/);
    assert.match(byOffset.get(1)!.error, /cannot post alert b: the webhook answered 503/);
    assert.equal(byOffset.get(1)!.stage, "lzsync-alert-notifier");
    assert.notEqual(byOffset.get(2)!.error_code, "NOTIFY_FAILED", "a malformed record fails at decode");
    assert.equal(hook.bodies.length, 0);
    for (const d of dlq) assert.ok(!JSON.stringify(d).includes("hooks/T000"), "the webhook URL is a secret");
    const text = await deps.metrics.metrics();
    assert.match(text, /lzsync_alert_notifications_total\{outcome="failed"\} 2/);
  } finally {
    await host.stop();
    await broker.close();
    await hook.stop();
  }
});

Deno.test("alert notifier: transitions older than alerts.notify_max_age (a first start over old alerts) are counted stale, not posted", async () => {
  const hook = receiver(() => 200);
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, { alerts: { slack_webhook_env: "SLACK_URL", notify_max_age: "10m" } }, {
    SLACK_URL: hook.url,
  });
  let sent = 0;
  const topo = createAlertNotifier(deps, { onSent: () => sent++ })!;
  await broker.admin().createTopics([{ name: ALERTS_TOPIC.name, partitions: 1, compacted: true }]);
  const p = await broker.producer();
  await p.send(ALERTS_TOPIC.name, [
    { key: "old", value: encode(ALERTS_TOPIC.name, alert("open", "old")), timestamp: Date.now() - 3_600_000 },
    { key: "new", value: encode(ALERTS_TOPIC.name, alert("open", "new")) },
  ]);
  await p.close();
  const host = createProcessorHost({ broker, log: silentLogger, metrics: deps.metrics }, topo as Topology);
  try {
    await host.start();
    await waitFor(() => sent === 1, "one post");
    await waitFor(async () => /outcome="stale"\} 1/.test(await deps.metrics.metrics()), "one stale");
    assert.equal(hook.bodies.length, 1);
  } finally {
    await host.stop();
    await broker.close();
    await hook.stop();
  }
});

Deno.test("alert notifier: a replay (offsets to earliest, its state dropped) posts no transition posted before; a new transition is posted", async () => {
  const hook = receiver(() => 200);
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, { alerts: { slack_webhook_env: "SLACK_URL" } }, { SLACK_URL: hook.url });
  const topo = createAlertNotifier(deps, { backoffMs: 5 })! as Topology;
  const send = async (...alerts: Alert[]) => {
    const p = await broker.producer();
    await p.send(ALERTS_TOPIC.name, alerts.map((a) => ({ key: a.id, value: encode(ALERTS_TOPIC.name, a) })));
    await p.close();
  };
  const reopened: Alert = {
    ...alert("open"),
    opened_at: "2024-05-01T13:00:00.000Z",
    updated_at: "2024-05-01T13:00:00.000Z",
  };
  try {
    await broker.admin().createTopics([{ name: ALERTS_TOPIC.name, partitions: 1, compacted: true }]);
    await send(alert("open"), alert("resolved"));
    await runToEnd(broker, topo, deps);
    assert.equal(hook.bodies.length, 2);
    // what an operator does to resync: every transition (all younger than notify_max_age) comes again
    const r = await replay({
      broker,
      group: topo.app,
      to: "earliest",
      inputs: topo.inputs,
      stores: topo.stores,
    });
    assert.deepEqual(r.offsets.map((o) => o.offset), [0]);
    await runToEnd(broker, topo, deps);
    assert.equal(hook.bodies.length, 2, "the replay posted nothing again");
    // sync-status re-emitting the resolve (its own replay: a fresh record of the same transition), then the
    // alert opening again (a new opened_at): only the new transition is news
    await send(alert("resolved"), reopened);
    await runToEnd(broker, topo, deps);
    assert.deepEqual(hook.bodies.map((b) => b.text), [
      alertText(alert("open")),
      alertText(alert("resolved")),
      alertText(reopened),
    ]);
    assert.match(await deps.metrics.metrics(), /lzsync_alert_notifications_total\{outcome="ok"\} 3/);
  } finally {
    await broker.close();
    await hook.stop();
  }
});
