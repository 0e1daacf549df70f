import assert from "node:assert/strict";
import type { Producer } from "../../pipeline/broker/types.ts";
import type { GatewayPlugin, LiveEvent } from "./plugin.ts";
import { LiveClient, openSse, RawWsClient, startTestGateway } from "./testing.ts";

const EVENTS = "gw.slow.events";
const plugin: GatewayPlugin = { name: "slow", eventTopics: [EVENTS] };
const BUDGET = 256 * 1024;
const COUNT = 3_000;
const PAD = "x".repeat(4_000); // ~12 MB in all: more than the kernel buffers a non-reading peer absorbs

async function produceAll(producer: Producer, onChunk: () => void) {
  const enc = new TextEncoder();
  for (let n = 0; n < COUNT; n += 100) {
    const recs = Array.from({ length: 100 }, (_, i) => ({
      key: `k${(n + i) % 7}`,
      value: enc.encode(JSON.stringify({ n: n + i, pad: PAD })),
    }));
    await producer.send(EVENTS, recs);
    onChunk();
    await new Promise((r) => setTimeout(r, 5)); // let the fan-out run between chunks
  }
}

const ns = (events: LiveEvent[]) =>
  events.filter((e) => e.topic === EVENTS).map((e) => (e.data as { n: number }).n).sort((a, b) => a - b);
const all = Array.from({ length: COUNT }, (_, i) => i);

async function scenario(policy: "drop-and-resync" | "close", ringSize: number) {
  const t = await startTestGateway({
    plugins: [plugin],
    config: { gateway: { client_buffer_bytes: BUDGET, slow_client_policy: policy } },
    options: { ringSize },
  });
  const producer = await t.broker.producer();
  const fast = await LiveClient.open(t.wsUrl, { topic: EVENTS });
  const slow = await RawWsClient.open(t.wsUrl, { topic: EVENTS });
  try {
    await fast.waitFor((f) => f.type === "snapshot-end");
    let maxBuffered = 0;
    const t0 = performance.now();
    await produceAll(producer, () => {
      for (const s of t.gateway.hub.clientStats()) maxBuffered = Math.max(maxBuffered, s.buffered);
    });
    await fast.waitFor((f) => f.topic === EVENTS, 20_000, COUNT);
    const fastMs = performance.now() - t0;
    assert.deepEqual(ns(fast.live()), all, "the fast client got every event once");
    assert.equal(fast.frames.filter((f) => f.type === "resync").length, 0, "live all along, never resynced");
    assert.equal(t.gateway.hub.clientCount(), policy === "close" ? 1 : 2);
    assert.ok(
      maxBuffered <= BUDGET + 8_192,
      `a client never holds more than its budget (max ${maxBuffered})`,
    );
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(`lzsync_gateway_slow_client_actions_total\\{policy="${policy}"\\} [1-9]`),
    );
    return { t, producer, fast, slow, fastMs };
  } catch (err) {
    await Promise.allSettled([fast.close(), slow.close()]);
    await producer.close();
    await t.stop();
    throw err;
  }
}

Deno.test("slow client, drop-and-resync: others unaffected, budget held, then a resync replays the gap", async () => {
  // Ring of 500: the slow client's position falls out of it, so its catch-up reads the broker.
  const { t, producer, fast, slow } = await scenario("drop-and-resync", 500);
  try {
    slow.startReading();
    const end = Date.now() + 20_000;
    while (ns(slow.events()).length < COUNT && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const events = slow.events();
    const resync = events.find((e) => e.type === "resync");
    assert.ok(resync, "the slow client was told it lagged");
    assert.equal((resync.data as { reason: string }).reason, "slow-client");
    assert.deepEqual(ns(events), all, "after the resync it has every event exactly once");
    assert.equal(slow.closeFrame(), undefined, "and it stayed connected");
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(metrics, /lzsync_gateway_catchup_reads_total\{source="broker"\} [1-9]/);
  } finally {
    await fast.close();
    await slow.close();
    await producer.close();
    await t.stop();
  }
});

Deno.test("slow client, close: closed with 1013 and its cursor; resuming from it loses nothing", async () => {
  const { t, producer, fast, slow } = await scenario("close", 10_000);
  try {
    slow.startReading();
    const end = Date.now() + 10_000;
    while (!slow.closeFrame() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const close = slow.closeFrame();
    assert.ok(close, "the slow client got a close frame");
    assert.equal(close.code, 1013);
    const m = /cursor=([A-Za-z0-9_-]+)/.exec(close.text);
    assert.ok(m, `the reason carries the cursor: ${close.text}`);
    const got = slow.events().filter((e) => e.topic === EVENTS);
    assert.equal(got.at(-1)!.cursor, m[1], "the cursor is the one of the last frame it received");
    assert.ok(got.length < COUNT);
    const again = await LiveClient.open(t.wsUrl, { topic: EVENTS, cursor: m[1] });
    try {
      await again.waitFor((f) => f.topic === EVENTS, 10_000, COUNT - got.length);
      assert.deepEqual(ns([...got, ...again.live()]), all, "no gap, no duplicate");
    } finally {
      await again.close();
    }
  } finally {
    await fast.close();
    await slow.close();
    await producer.close();
    await t.stop();
  }
});

Deno.test("slow client over SSE, close: the stream ends; Last-Event-ID resumes with nothing lost", async () => {
  const topic = "gw.slow.sse";
  const t = await startTestGateway({
    plugins: [{ name: "sse", eventTopics: [topic] }],
    config: { gateway: { client_buffer_bytes: BUDGET, slow_client_policy: "close" } },
  });
  const producer = await t.broker.producer();
  const slow = await openSse(`${t.url}/api/v1/events?topic=${topic}`, {}, { paused: true });
  try {
    const enc = new TextEncoder();
    const big = "y".repeat(40_000);
    let n = 0;
    // Loopback kernel buffers absorb tens of MB before the transport pushes back: produce until it does.
    while (t.gateway.hub.clientCount() > 0 && n < 4_000) {
      await producer.send(
        topic,
        Array.from({ length: 25 }, () => ({ key: null, value: enc.encode(JSON.stringify({ n: n++, big })) })),
      );
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(t.gateway.hub.clientCount(), 0, "the slow SSE client was closed");
    slow.resume();
    await slow.ended;
    const got = slow.frames.filter((f) => f.data.topic === topic);
    assert.ok(got.length > 0 && got.length < n);
    const rest = await openSse(`${t.url}/api/v1/events?topic=${topic}`, { "Last-Event-ID": got.at(-1)!.id });
    try {
      const end = Date.now() + 20_000;
      while (rest.frames.filter((f) => f.data.topic === topic).length < n - got.length && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const ns = [...got, ...rest.frames.filter((f) => f.data.topic === topic)].map((f) =>
        (f.data.data as { n: number }).n
      );
      assert.deepEqual(
        ns.sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i),
        "no gap, no duplicate",
      );
    } finally {
      await rest.stop();
    }
  } finally {
    await slow.stop();
    await producer.close();
    await t.stop();
  }
});
