import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { decodeCursor } from "./cursor.ts";
import type { GatewayPlugin, LiveEvent } from "./plugin.ts";
import {
  LiveClient,
  openSse,
  startTestGateway,
  type TestGateway,
  type TestGatewayOptions,
} from "./testing.ts";

const STATE = "gw.test.state";
const EVENTS = "gw.test.events";
const plugin: GatewayPlugin = {
  name: "test",
  compactedTopics: [STATE],
  eventTopics: [EVENTS],
  localTopics: ["gw.test.progress"],
};

async function withGateway(fn: (t: TestGateway) => Promise<void>, o: TestGatewayOptions = {}) {
  const t = await startTestGateway({ plugins: [plugin], ...o });
  try {
    await fn(t);
  } finally {
    await t.stop();
  }
}

const byPartition = (frames: LiveEvent[]) => {
  const out = new Map<string, number[]>();
  for (const f of frames) {
    const d = f.data as { n: number; p: number };
    out.set(`${f.topic}:${d.p}`, [...(out.get(`${f.topic}:${d.p}`) ?? []), d.n]);
  }
  return out;
};

/** Produces events n = from..to-1 round-robin over 3 partitions; data carries n and the partition. */
async function produceEvents(t: TestGateway, from: number, to: number) {
  for (let n = from; n < to; n++) await t.produce(EVENTS, `k${n % 5}`, { type: "ev", n, p: n % 3 }, n % 3);
}

Deno.test("ws: a snapshot of the views comes first (latest per key, deletes applied), then live events", async () => {
  await withGateway(async (t) => {
    await t.produce(STATE, "a", { type: "thing", v: 1 });
    await t.produce(STATE, "b", { v: 1 });
    await t.produce(STATE, "a", { type: "thing", v: 2 });
    await t.produce(STATE, "c", { v: 1 });
    await t.produce(STATE, "c", null);
    await t.waitReady();
    const c = await LiveClient.open(t.wsUrl);
    try {
      await c.waitFor((f) => f.type === "snapshot-end");
      const snap = c.frames.filter((f) => f.snapshot);
      assert.deepEqual(
        snap.map((f) => [f.topic, f.key, f.type, f.data]).sort(),
        [[STATE, "a", "thing", { type: "thing", v: 2 }], [STATE, "b", STATE, { v: 1 }]],
      );
      assert.equal(
        c.frames.indexOf(c.frames.find((f) => f.type === "snapshot-end")!),
        2,
        "snapshot-end last",
      );
      await t.produce(EVENTS, "x", { type: "hello", n: 1 });
      await t.produce(STATE, "b", null);
      const [ev] = await c.waitFor((f) => f.type === "hello");
      assert.equal(ev.topic, EVENTS);
      assert.equal(ev.snapshot, undefined);
      assert.ok(!Number.isNaN(Date.parse(ev.ts)));
      const [del] = await c.waitFor((f) => f.key === "b" && f.data === null);
      assert.equal(del.type, STATE);
      for (const f of c.frames) assert.ok(f.cursor.length > 0, "every frame carries a cursor");
      const view = await (await fetch(`${t.url}/metrics`)).text();
      assert.match(view, /lzsync_gateway_view_keys\{topic="gw.test.state"\} 1/);
    } finally {
      await c.close();
    }
  });
});

Deno.test("ws: ?snapshot=0 skips the snapshot and starts live from now", async () => {
  await withGateway(async (t) => {
    await t.produce(STATE, "a", { v: 1 });
    await t.waitReady();
    const c = await LiveClient.open(t.wsUrl + "?snapshot=0");
    try {
      const [end] = await c.waitFor((f) => f.type === "snapshot-end");
      assert.deepEqual(end.data, { topics: [] });
      await t.produce(STATE, "a", { v: 2 });
      await c.waitFor((f) => f.topic === STATE);
      assert.deepEqual(c.frames.map((f) => [f.type, f.snapshot ?? false]), [["snapshot-end", false], [
        STATE,
        false,
      ]]);
    } finally {
      await c.close();
    }
  });
});

Deno.test("ws: ?topic= and ?key= filter the snapshot and the live stream", async () => {
  await withGateway(async (t) => {
    await t.produce(STATE, "a", { v: 1 });
    await t.produce(STATE, "b", { v: 1 });
    await t.waitReady();
    const onlyA = await LiveClient.open(t.wsUrl, { topic: [STATE, EVENTS], key: ["a"] });
    const events = await LiveClient.open(t.wsUrl, { topic: EVENTS });
    try {
      await onlyA.waitFor((f) => f.type === "snapshot-end");
      await events.waitFor((f) => f.type === "snapshot-end");
      assert.deepEqual(onlyA.frames.filter((f) => f.snapshot).map((f) => f.key), ["a"]);
      assert.equal(events.frames.filter((f) => f.snapshot).length, 0, "no snapshot for event topics");
      await t.produce(STATE, "b", { v: 2 });
      await t.produce(EVENTS, "b", { type: "ev", n: 1 });
      await t.produce(EVENTS, "a", { type: "ev", n: 2 });
      await t.produce(STATE, "a", { v: 3 });
      await onlyA.waitFor((f) => f.topic === STATE && (f.data as { v: number }).v === 3);
      await events.waitFor((f) => f.type === "ev", 5_000, 2);
      assert.deepEqual(onlyA.live().map((f) => [f.topic, f.key]), [[EVENTS, "a"], [STATE, "a"]]);
      assert.deepEqual(events.live().map((f) => f.key), ["b", "a"]);
    } finally {
      await onlyA.close();
      await events.close();
    }
    const res = await fetch(`${t.url}/ws/sync-events?topic=nope`, { headers: { upgrade: "websocket" } });
    assert.equal(res.status, 400);
    assert.match((await res.json()).reason, /unknown topic nope/);
  });
});

Deno.test("ws: reconnecting with ?cursor= resumes with no gap and no duplicate across partitions", async () => {
  await withGateway(async (t) => {
    const c1 = await LiveClient.open(t.wsUrl, { topic: EVENTS });
    await produceEvents(t, 0, 30);
    await c1.waitFor((f) => f.type === "ev", 5_000, 30);
    await c1.close();
    const seen = c1.live().slice(0, 12); // the client only processed 12 frames before it went away
    await produceEvents(t, 30, 60);
    const c2 = await LiveClient.open(t.wsUrl, { topic: EVENTS, cursor: seen.at(-1)!.cursor });
    try {
      await produceEvents(t, 60, 70);
      await c2.waitFor((f) => f.type === "ev", 5_000, 70 - 12);
      const all = [...seen, ...c2.live()];
      const ns = all.map((f) => (f.data as { n: number }).n).sort((a, b) => a - b);
      assert.deepEqual(ns, Array.from({ length: 70 }, (_, i) => i), "each event exactly once");
      for (const [tp, list] of byPartition(all)) {
        assert.deepEqual(list, [...list].sort((a, b) => a - b), `order within ${tp}`);
      }
      assert.equal(c2.frames.filter((f) => f.snapshot || f.type === "snapshot-end").length, 0);
    } finally {
      await c2.close();
    }
  });
});

Deno.test("ws: a resume older than the ring reads the gap from the broker, then goes live", async () => {
  await withGateway(async (t) => {
    const c1 = await LiveClient.open(t.wsUrl, { topic: [EVENTS, STATE] });
    await produceEvents(t, 0, 10);
    await c1.waitFor((f) => f.type === "ev", 5_000, 10);
    await c1.close();
    const cursor = c1.live()[4].cursor;
    await produceEvents(t, 10, 200); // the ring holds 20 per topic: 5..179 must come from the broker
    await t.produce(STATE, "s", { v: 1 });
    const c2 = await LiveClient.open(t.wsUrl, { topic: [EVENTS, STATE], cursor });
    try {
      await c2.waitFor((f) => f.topic === STATE);
      await produceEvents(t, 200, 210);
      await c2.waitFor((f) => f.type === "ev", 5_000, 205);
      const ns = [...c1.live().slice(0, 5), ...c2.live().filter((f) => f.topic === EVENTS)]
        .map((f) => (f.data as { n: number }).n).sort((a, b) => a - b);
      assert.deepEqual(ns, Array.from({ length: 210 }, (_, i) => i));
      assert.deepEqual(c2.live().filter((f) => f.topic === STATE).map((f) => f.key), ["s"]);
      for (const [tp, list] of byPartition(c2.live().filter((f) => f.topic === EVENTS))) {
        assert.deepEqual(list, [...list].sort((a, b) => a - b), `order within ${tp}`);
      }
      // Each replayed frame's cursor resumes right after it.
      const mid = c2.live()[100];
      const pos = decodeCursor(mid.cursor).p[EVENTS];
      const d = mid.data as { n: number; p: number };
      assert.equal(pos[d.p], Math.floor(d.n / 3) + 1, "event n sits at offset n/3 of partition n%3");
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      assert.match(metrics, /lzsync_gateway_catchup_reads_total\{source="broker"\} [1-9]/);
    } finally {
      await c2.close();
    }
  }, { options: { ringSize: 20 } });
});

Deno.test("ws: a snapshot frame's cursor resumes with a fresh snapshot; a bad cursor is a 400", async () => {
  await withGateway(async (t) => {
    await t.produce(STATE, "a", { v: 1 });
    await t.waitReady();
    const c1 = await LiveClient.open(t.wsUrl, { topic: STATE });
    await c1.waitFor((f) => f.type === "snapshot-end");
    await c1.close();
    await t.produce(STATE, "b", { v: 1 });
    const c2 = await LiveClient.open(t.wsUrl, { topic: STATE, cursor: c1.frames[0].cursor });
    try {
      await c2.waitFor((f) => f.type === "snapshot-end");
      assert.deepEqual(c2.frames.filter((f) => f.snapshot).map((f) => f.key).sort(), ["a", "b"]);
    } finally {
      await c2.close();
    }
    for (const bad of ["%%%", "eyJ4IjoxfQ", btoa(JSON.stringify({ p: { a: [-1] } })).replace(/=+$/, "")]) {
      const res = await fetch(`${t.url}/ws/sync-events?cursor=${encodeURIComponent(bad)}`, {
        headers: { upgrade: "websocket" },
      });
      assert.equal(res.status, 400, bad);
      const body = await res.json();
      assert.equal(body.error, "bad_request");
      assert.match(body.reason, /invalid cursor/);
    }
    const plain = await fetch(`${t.url}/ws/sync-events`);
    assert.equal(plain.status, 426);
    await plain.body?.cancel();
  });
});

Deno.test("ws: a cursor older than retention gets a resync frame, then what is left", async () => {
  let now = Date.now();
  const broker = await createEmbeddedBroker({ clock: { now: () => now } });
  const old = "gw.test.old";
  await broker.admin().createTopics([{ name: old, partitions: 1, config: { "retention.ms": "60000" } }]);
  const gw = await startTestGateway({
    broker,
    plugins: [{ name: "old", eventTopics: [old] }],
    options: { ringSize: 100 }, // the ring cannot cover the gap: it must come from the broker
  });
  const producer = await broker.producer();
  try {
    const enc = (n: number) => new TextEncoder().encode(JSON.stringify({ n }));
    const c1 = await LiveClient.open(gw.wsUrl, { topic: old });
    await producer.send(old, [0, 1, 2].map((n) => ({ key: null, value: enc(n) })));
    await c1.waitFor((f) => f.topic === old, 5_000, 3);
    await c1.close();
    await producer.send(old, Array.from({ length: 1500 }, (_, i) => ({ key: null, value: enc(i + 3) })));
    now += 3_600_000;
    await producer.send(old, [{ key: null, value: enc(9999) }]); // the append that expires the old ones
    const low = (await broker.admin().topicOffsets(old))[0].low;
    assert.ok(low > 3, `retention moved the log start (low=${low})`);
    const c2 = await LiveClient.open(gw.wsUrl, { topic: old, cursor: c1.frames.at(-1)!.cursor });
    try {
      const [resync] = await c2.waitFor((f) => f.type === "resync");
      assert.deepEqual(resync.data, { reason: "cursor-expired", topic: old, partition: 0, lost: low - 3 });
      await c2.waitFor((f) => (f.data as { n?: number })?.n === 9999, 10_000);
      // Offsets 0..1502 expired (low = 1503): the client gets the one record still held, once.
      assert.equal(low, 1503);
      assert.deepEqual(c2.live().map((f) => (f.data as { n: number }).n), [9999]);
    } finally {
      await c2.close();
    }
  } finally {
    await producer.close();
    await gw.stop();
    await broker.close();
  }
});

Deno.test("sse: snapshot then live; Last-Event-ID resumes with no gap and no duplicate", async () => {
  await withGateway(async (t) => {
    await t.produce(STATE, "a", { v: 1 });
    await t.waitReady();
    const s1 = await openSse(`${t.url}/api/v1/events?topic=${STATE},${EVENTS}`);
    assert.equal(s1.status, 200);
    assert.match(s1.response.headers.get("content-type")!, /text\/event-stream/);
    await produceEvents(t, 0, 20);
    while (s1.frames.filter((f) => f.data.type === "ev").length < 20) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await s1.stop();
    assert.deepEqual(s1.frames.slice(0, 2).map((f) => [f.data.snapshot, f.data.type]), [[true, STATE], [
      undefined,
      "snapshot-end",
    ]]);
    for (const f of s1.frames) assert.equal(f.id, f.data.cursor, "SSE id is the cursor");
    const seen = s1.frames.filter((f) => f.data.type === "ev").slice(0, 7);
    await produceEvents(t, 20, 30);
    const s2 = await openSse(`${t.url}/api/v1/events?topic=${STATE},${EVENTS}`, {
      "Last-Event-ID": seen.at(-1)!.id,
    });
    try {
      while (s2.frames.filter((f) => f.data.type === "ev").length < 23) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const ns = [...seen, ...s2.frames].filter((f) => f.data.type === "ev").map((f) =>
        (f.data.data as { n: number }).n
      );
      assert.deepEqual(ns.sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i));
    } finally {
      await s2.stop();
    }
  });
});

Deno.test("local events from a plugin reach clients and resume on the same gateway", async () => {
  let publish: ((n: number) => void) | null = null;
  const local: GatewayPlugin = {
    name: "local",
    localTopics: ["gw.local.progress"],
    routes(_app, ctx) {
      publish = (n) =>
        ctx.publish({ topic: "gw.local.progress", key: "sync-1", type: "progress", data: { n } });
      assert.throws(
        () => ctx.publish({ topic: "undeclared", key: null, type: "x", data: 1 }),
        /not a declared/,
      );
    },
  };
  const t = await startTestGateway({ plugins: [local] });
  try {
    const c1 = await LiveClient.open(t.wsUrl, { topic: "gw.local.progress" });
    await c1.waitFor((f) => f.type === "snapshot-end");
    for (let n = 0; n < 5; n++) publish!(n);
    await c1.waitFor((f) => f.type === "progress", 5_000, 5);
    await c1.close();
    for (let n = 5; n < 8; n++) publish!(n);
    const c2 = await LiveClient.open(t.wsUrl, { topic: "gw.local.progress", cursor: c1.live()[2].cursor });
    try {
      await c2.waitFor((f) => f.type === "progress", 5_000, 5);
      assert.deepEqual(c2.live().map((f) => (f.data as { n: number }).n), [3, 4, 5, 6, 7]);
    } finally {
      await c2.close();
    }
  } finally {
    await t.stop();
  }
});

Deno.test("scaling out: a cursor from one gateway resumes on another gateway of the same broker", async () => {
  await withGateway(async (a) => {
    const b = await startTestGateway({ plugins: [plugin], broker: a.broker });
    try {
      await a.produce(STATE, "s1", { v: 1 });
      const c1 = await LiveClient.open(a.wsUrl, { topic: [STATE, EVENTS] });
      await c1.waitFor((f) => f.type === "snapshot-end");
      await produceEvents(a, 0, 30);
      await c1.waitFor((f) => f.type === "ev", 5_000, 30);
      await c1.close();
      const seen = c1.frames.slice(0, c1.frames.findIndex((f) => (f.data as { n?: number })?.n === 9) + 1);
      await produceEvents(a, 30, 40);
      await a.produce(STATE, "s2", { v: 1 });
      const c2 = await LiveClient.open(b.wsUrl, { topic: [STATE, EVENTS], cursor: seen.at(-1)!.cursor });
      try {
        await c2.waitFor((f) => f.key === "s2");
        await c2.waitFor((f) => f.type === "ev", 5_000, 30);
        const ns = [...seen, ...c2.frames].filter((f) => f.type === "ev").map((f) =>
          (f.data as { n: number }).n
        );
        assert.deepEqual(ns.sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i));
        assert.equal(c2.frames.filter((f) => f.snapshot).length, 0, "a resume, not a snapshot");
      } finally {
        await c2.close();
      }
    } finally {
      await b.stop();
    }
  });
});
