/**
 * The Pub/Sub → WebSocket latency figure of `bench/assets.ts`: TemporalAssets published to Google's emulator
 * travel through the subscriber, Kafka, the `lzsync-assets` processor and the gateway to a WebSocket client.
 * Baseline, same run, same messages: a bare `@google-cloud/pubsub` subscriber on a second subscription of the
 * same topic (the emulator's own delivery latency). Kafka and the emulator come from `LZSYNC_TEST_KAFKA_BROKERS`
 * / `PUBSUB_EMULATOR_HOST` when set, else they are started here and stopped at the end.
 */
import type { BenchResult } from "./types.ts";
import type { Batch } from "../pipeline/broker/types.ts";
import { createKafkaBroker } from "../pipeline/broker/kafka/mod.ts";
import { silentLogger } from "../pipeline/log.ts";
import { createProcessorHost } from "../pipeline/processor/host.ts";
import { startKafka } from "../pipeline/testing/kafka_server.ts";
import { startPubsubEmulator } from "../pipeline/testing/pubsub_emulator.ts";
import { assetsTopology } from "../processors/assets/mod.ts";
import { startTestGateway } from "../connectors/gateway/testing.ts";
import { infraGatewayPlugin } from "../features/infrastructure/plugin.ts";
import { createPubsubSubscriber } from "../connectors/pubsub/subscriber.ts";
import { emulatorTopic } from "../connectors/pubsub/test_util.ts";
import { testDeps } from "../pipeline/testing/deps.ts";

/** Warm-up at the measured rate before the measured messages, in ms. */
const WARM_MS = 2_000;

/** Wall-clock times (ms) one message was seen at along the path. */
interface Hop {
  published: number;
  pulled?: number;
  produced?: number;
  processed?: number;
  client?: number;
}

const HOPS: [string, keyof Hop, keyof Hop][] = [
  ["publish → pulled by subscriber", "published", "pulled"],
  ["pulled → on lz.infra.events.v1", "pulled", "produced"],
  ["on infra events → on lz.assets.v1", "produced", "processed"],
  ["on lz.assets.v1 → WebSocket client", "processed", "client"],
];

/** p50/p99 of each hop over the messages that have both ends. */
export function hopBreakdown(hops: Hop[]): { hop: string; p50: number; p99: number }[] {
  return HOPS.map(([hop, a, b]) => {
    const d = hops.filter((h) => h[a] !== undefined && h[b] !== undefined).map((h) => h[b]! - h[a]!)
      .sort((x, y) => x - y);
    return { hop, p50: percentile(d, 50), p99: percentile(d, 99) };
  });
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Publishes `rounds` × `n` messages at `ratePerSec` after a warm-up and reports the median round's p50/p99
 * against the bare subscriber's on the same messages, and the per-hop breakdown over all rounds.
 */
export async function pubsubToWebsocket(n: number, ratePerSec = 50, rounds = 3): Promise<BenchResult[]> {
  const stops: (() => Promise<void>)[] = [];
  try {
    let brokers = Deno.env.get("LZSYNC_TEST_KAFKA_BROKERS");
    if (!brokers) {
      const k = await startKafka();
      stops.push(k.stop);
      brokers = k.brokers;
    }
    let host = Deno.env.get("PUBSUB_EMULATOR_HOST");
    if (!host) {
      const e = await startPubsubEmulator();
      stops.push(e.stop);
      host = e.host;
    }
    const run = crypto.randomUUID().slice(0, 8);
    const broker = await createKafkaBroker({ brokers: brokers.split(","), clientId: `bench-${run}` });
    stops.unshift(() => broker.close());
    const t = await emulatorTopic(host, "bench");
    stops.unshift(t.cleanup);
    const [raw] = await t.client.topic(t.topic).createSubscription(`bench-raw-${run}`);
    const processor = createProcessorHost(
      { broker, log: silentLogger },
      assetsTopology({ app: `bench-assets-${run}` }),
      {
        tickMs: 20,
      },
    );
    await processor.start();
    stops.unshift(() => processor.stop());
    const gw = await startTestGateway({ plugins: [infraGatewayPlugin()], broker });
    stops.unshift(() => gw.stop());
    const sub = createPubsubSubscriber(testDeps(broker), {
      projectId: t.projectId,
      subscription: t.subscription,
      maxMessages: 500,
      emulatorHost: host,
    });
    await sub.start();
    stops.unshift(() => sub.stop());

    // Per-hop breakdown: when the bench process sees each message's event on the broker's topics (its own
    // group-less readers, long-polling like the gateway's), beside the subscriber's receipt header.
    const hops = new Map<string, Hop>();
    const hopReaders = [
      broker.reader({ topics: ["lz.infra.events.v1"], from: "latest" }),
      broker.reader({ topics: ["lz.assets.v1"], from: "latest" }),
    ];
    const [eventsReader, assetsReader] = hopReaders;
    const onTopic = (field: "produced" | "processed") => (b: Batch): Promise<void> => {
      const now = Date.now();
      for (const r of b.records) {
        if (!r.key || !r.key.startsWith(prefix)) continue;
        const h = hops.get(r.key);
        if (!h) continue;
        h[field] ??= now;
        if (field === "produced") {
          const at = r.headers["lz-received-at"];
          if (at) h.pulled = Date.parse(String(at));
        }
      }
      return Promise.resolve();
    };
    const readerRuns = [
      eventsReader.run(onTopic("produced")),
      assetsReader.run(onTopic("processed")),
    ];
    stops.unshift(async () => {
      await Promise.all(hopReaders.map((r) => r.stop()));
      await Promise.allSettled(readerRuns);
    });
    const published = new Map<string, number>();
    let viaWs: number[] = [];
    let viaRaw: number[] = [];
    const prefix = `//compute.googleapis.com/projects/bench/global/firewalls/${run}-`;
    const ws = new WebSocket(`${gw.wsUrl}?topic=lz.assets.v1`);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error("WebSocket did not open"));
    });
    stops.unshift(async () => {
      ws.close();
      await new Promise((r) => setTimeout(r, 50));
    });
    let measuring = false;
    ws.onmessage = (m) => {
      const f = JSON.parse(m.data as string);
      if (f.type !== "resource_created" || typeof f.key !== "string" || !f.key.startsWith(prefix)) return;
      const t0 = published.get(f.key);
      if (t0 !== undefined && measuring) viaWs.push(performance.now() - t0);
      const h = hops.get(f.key);
      if (h && measuring) h.client = Date.now();
      published.delete(f.key);
    };
    const rawSub = raw;
    rawSub.on("message", (m) => {
      const name = JSON.parse(m.data.toString()).asset.name as string;
      const t0 = rawTimes.get(name);
      if (t0 !== undefined && measuring) viaRaw.push(performance.now() - t0);
      rawTimes.delete(name);
      m.ack();
    });
    stops.unshift(async () => {
      rawSub.removeAllListeners("message");
      await rawSub.close();
    });
    const rawTimes = new Map<string, number>();
    const publish = async (i: number) => {
      const name = `${prefix}${i}`;
      const now = performance.now();
      published.set(name, now);
      hops.set(name, { published: Date.now() });
      rawTimes.set(name, now);
      await t.publish({
        asset: {
          name,
          assetType: "compute.googleapis.com/Firewall",
          updateTime: new Date().toISOString(),
          resource: { location: "global", data: { name: `fw-${i}`, sourceRanges: ["10.0.0.0/8"] } },
        },
        window: { startTime: new Date().toISOString() },
      });
    };
    const gap = 1000 / ratePerSec;
    /** Publishes `count` messages `gap` ms apart (numbered from `from`) and waits for the publishes. */
    const paced = async (count: number, from: number) => {
      const start = performance.now();
      const sends: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        const wait = start + i * gap - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        sends.push(publish(from + i));
      }
      await Promise.all(sends);
    };
    const arrived = async () => {
      const until = Date.now() + 30_000;
      while (published.size && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    };
    // Warm-up: connections and group joins (a burst), then JIT and every stage's batching at the measured
    // rate for WARM_MS (the first half second at rate was the slowest of a run when the warm-up was a burst).
    for (let i = 0; i < 20; i++) await publish(-1 - i);
    await arrived();
    await paced(Math.round((WARM_MS / 1000) * ratePerSec), -1000);
    await arrived();
    // Rounds of `n` messages; the figures are medians of the rounds' (p99 of a few hundred messages is at
    // the mercy of one stall of a shared machine). The bare subscriber is timed on the same messages.
    const per: { p99: number; p50: number; raw99: number; raw50: number }[] = [];
    const allHops: Hop[] = [];
    let lost = 0;
    for (let r = 0; r < rounds; r++) {
      published.clear();
      rawTimes.clear();
      hops.clear();
      viaWs = [];
      viaRaw = [];
      measuring = true;
      await paced(n, r * n);
      const end = Date.now() + 30_000;
      while ((viaWs.length < n || viaRaw.length < n) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      measuring = false;
      viaWs.sort((a, b) => a - b);
      viaRaw.sort((a, b) => a - b);
      per.push({
        p99: percentile(viaWs, 99),
        p50: percentile(viaWs, 50),
        raw99: percentile(viaRaw, 99),
        raw50: percentile(viaRaw, 50),
      });
      lost += n - viaWs.length;
      allHops.push(...hops.values());
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const p99 = med(per.map((x) => x.p99)), raw99 = med(per.map((x) => x.raw99));
    const p50 = med(per.map((x) => x.p50)), raw50 = med(per.map((x) => x.raw50));
    const ratio = med(per.map((x) => x.p99 / x.raw99));
    const breakdown = hopBreakdown(allHops);
    const total = (h: Hop) => h.client! - h.published;
    const worst = allHops.filter((h) => h.client !== undefined).sort((a, b) => total(b) - total(a));
    const hopsOf = (h: Hop) => HOPS.map(([, a, b]) => ((h[b] ?? NaN) - (h[a] ?? NaN)).toFixed(0)).join(" + ");
    console.error(
      `[bench] pubsub p99 ms per round ${per.map((x) => x.p99.toFixed(0)).join("/")} vs bare ${
        per.map((x) => x.raw99.toFixed(0)).join("/")
      } (ratios ${per.map((x) => (x.p99 / x.raw99).toFixed(2)).join("/")}); load ${
        Deno.loadavg().map((x) => x.toFixed(1)).join(" ")
      }`,
    );
    console.error(`[bench] pubsub per-hop latency (ms, p50 / p99 of ${allHops.length} messages):`);
    for (const b of breakdown) {
      console.error(`  ${b.hop.padEnd(34)} ${b.p50.toFixed(0).padStart(5)} / ${b.p99.toFixed(0)}`);
    }
    console.error(
      `  the 1% slowest, hop by hop: ${
        worst.slice(0, Math.max(1, Math.ceil(worst.length / 100))).map((h) => `${total(h)} = ${hopsOf(h)}`)
          .join("; ")
      }`,
    );
    return [
      {
        name:
          `pubsub: publish → WebSocket p99, Kafka + emulator (median of ${rounds} rounds of ${n} msgs at ${ratePerSec}/s${
            lost ? `, ${lost} NOT RECEIVED` : ""
          })`,
        value: Math.round(p99),
        unit: "ms",
        baseline: { name: "bare Pub/Sub subscriber p99 (emulator delivery)", value: Math.round(raw99) },
        ratio: Math.round(ratio * 100) / 100,
        target: "< 300 ms and <= 1.5x the bare subscriber (median of per-round ratios)",
        pass: lost === 0 && p99 < 300 && ratio <= 1.5,
      },
      {
        name: "pubsub: publish → WebSocket p50, Kafka + emulator",
        value: Math.round(p50),
        unit: "ms",
        baseline: { name: "bare Pub/Sub subscriber p50", value: Math.round(raw50) },
        ratio: Math.round((p50 / raw50) * 100) / 100,
      },
      ...breakdown.map((b): BenchResult => ({
        name: `pubsub hop: ${b.hop} p99 (p50 ${b.p50.toFixed(0)} ms)`,
        value: Math.round(b.p99),
        unit: "ms",
      })),
    ];
  } finally {
    for (const s of stops) await s().catch((err) => console.error(`[bench] cleanup: ${err?.message ?? err}`));
  }
}
