/**
 * Webhook receipt → WebSocket client latency of the git sync layer, measured with real clients: a signed
 * GitHub push delivered over HTTP to the gateway, and a WebSocket client of `/ws/sync-events` that waits for
 *
 * 1. the push event (`lz.git.push.v1`): receipt → broker ack → gateway reader → fan-out (the webhook layer);
 * 2. the commit marker (`lz.git.files.v1`): also the git fetch over smart-HTTP, tree diff and file records
 *    (the whole sync, a new commit per delivery).
 *
 * On the embedded broker (target p99 < 50 ms) and on Kafka (target p99 < 250 ms; `LZSYNC_TEST_KAFKA_BROKERS`
 * or a broker started here). Baseline, same run: a bare `Deno.serve` that answers the POST and sends the
 * body to a WebSocket client itself. Deliveries are sequential and bounded in count; everything runs on
 * 127.0.0.1 in this process (clients included), with the fetcher and the processors running alongside.
 */
import type { BenchResult } from "./types.ts";
import type { Broker } from "../pipeline/broker/types.ts";
import { createKafkaBroker } from "../pipeline/broker/kafka/mod.ts";
import { startKafka } from "../pipeline/testing/kafka_server.ts";
import { silentLogger } from "../pipeline/log.ts";
import { type GitStack, STACK_REPO, startGitStack } from "../features/git_sync/testing.ts";
import { LiveClient } from "../connectors/gateway/testing.ts";
import { GIT_PUSH_TOPIC } from "../schemas/git_push.ts";
import { GIT_FILES_TOPIC } from "../schemas/git_files.ts";

const WARMUP = 10;
/** Hundreds of deliveries from one loopback address: the per-IP webhook limit (10/s) is lifted here. */
const UNLIMITED = { gateway: { rate_limits: { webhook: { ip: { rate_per_s: 0 } } } } };
const PUSHES = { embedded: 200, kafka: 100 };
const SYNCS = { embedded: 30, kafka: 20 };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** p50/p99 of the bare baseline: POST → the server sends the body to one WebSocket client. */
async function baseline(n: number): Promise<{ p50: number; p99: number }> {
  const clients = new Set<WebSocket>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (req.headers.get("upgrade") === "websocket") {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => clients.add(socket);
      socket.onclose = () => clients.delete(socket);
      return response;
    }
    const body = await req.text();
    for (const c of clients) c.send(body);
    return new Response(null, { status: 202 });
  });
  const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
  await new Promise((r) => (ws.onopen = r));
  while (clients.size === 0) await new Promise((r) => setTimeout(r, 5));
  const lat: number[] = [];
  try {
    for (let i = 0; i < n + WARMUP; i++) {
      const id = `b${i}`;
      const got = new Promise<void>((r) => (ws.onmessage = (m) => m.data === id && r()));
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${server.addr.port}/hook`, { method: "POST", body: id });
      await res.body?.cancel();
      await got;
      if (i >= WARMUP) lat.push(performance.now() - t0);
    }
  } finally {
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await closed;
    await server.shutdown();
  }
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function measure(s: GitStack, pushes: number, syncs: number) {
  const ws = await LiveClient.open(s.gw.wsUrl, { topic: [GIT_PUSH_TOPIC.name, GIT_FILES_TOPIC.name] });
  try {
    await ws.waitFor(
      (f) => f.topic === GIT_FILES_TOPIC.name && (f.data as { kind?: string })?.kind === "commit",
      30_000,
    );
    const pushLat: number[] = [];
    let head = s.first;
    for (let i = 0; i < pushes + WARMUP; i++) {
      const id = `bench-${crypto.randomUUID()}`;
      const t0 = performance.now();
      const r = await s.deliverPush(head, { deliveryId: id });
      if (r.status !== 202) throw new Error(`webhook answered ${r.status}: ${JSON.stringify(r.body)}`);
      await ws.waitFor(
        (f) => f.topic === GIT_PUSH_TOPIC.name && (f.data as { delivery_id?: string })?.delivery_id === id,
        10_000,
      );
      if (i >= WARMUP) pushLat.push(performance.now() - t0);
      ws.frames.length = 0;
    }
    const syncLat: number[] = [];
    for (let i = 0; i < syncs; i++) {
      head = await s.git.commitAndPush(STACK_REPO, { "docs/bench.md": `# bench ${i}\n` }, `bench ${i}`);
      const t0 = performance.now();
      const r = await s.deliverPush(head);
      if (r.status !== 202) throw new Error(`webhook answered ${r.status}`);
      const sha = head;
      await ws.waitFor(
        (f) =>
          f.topic === GIT_FILES_TOPIC.name &&
          (f.data as { commit?: string; kind?: string })?.kind === "commit" &&
          (f.data as { commit?: string }).commit === sha,
        20_000,
      );
      syncLat.push(performance.now() - t0);
      ws.frames.length = 0;
    }
    return {
      push: { p50: pct(pushLat, 50), p99: pct(pushLat, 99) },
      sync: { p50: pct(syncLat, 50), p99: pct(syncLat, 99) },
    };
  } finally {
    await ws.close();
  }
}

function results(
  kind: "embedded" | "kafka",
  m: Awaited<ReturnType<typeof measure>>,
  base: { p50: number; p99: number },
  target: number,
): BenchResult[] {
  const baselineRef = { name: "bare Deno.serve POST → WebSocket p99", value: base.p99 };
  return [
    {
      name: `webhook → WebSocket (push event) p99, ${kind}`,
      value: m.push.p99,
      unit: "ms",
      baseline: baselineRef,
      ratio: m.push.p99 / base.p99,
      target: `< ${target} ms`,
      pass: m.push.p99 < target,
    },
    { name: `webhook → WebSocket (push event) p50, ${kind}`, value: m.push.p50, unit: "ms" },
    {
      name: `webhook → WebSocket (files synced: fetch+diff+files) p99, ${kind}`,
      value: m.sync.p99,
      unit: "ms",
      baseline: baselineRef,
      ratio: m.sync.p99 / base.p99,
    },
    { name: `webhook → WebSocket (files synced) p50, ${kind}`, value: m.sync.p50, unit: "ms" },
  ];
}

/** Runs the git bench (see the module doc). */
export async function run(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const base = await baseline(PUSHES.embedded);
  out.push({ name: "bare Deno.serve POST → WebSocket p99 (baseline)", value: base.p99, unit: "ms" });

  const embedded = await startGitStack({ config: UNLIMITED });
  try {
    out.push(...results("embedded", await measure(embedded, PUSHES.embedded, SYNCS.embedded), base, 50));
  } finally {
    await embedded.stop();
  }

  let server: { brokers: string; stop(): Promise<void> } | null = null;
  let brokers = Deno.env.get("LZSYNC_TEST_KAFKA_BROKERS");
  if (!brokers) {
    server = await startKafka();
    brokers = server.brokers;
  }
  let broker: Broker | null = null;
  try {
    broker = await createKafkaBroker({
      brokers: brokers.split(","),
      clientId: "bench-git",
      logger: silentLogger,
    });
    const s = await startGitStack({ broker, config: UNLIMITED });
    try {
      out.push(...results("kafka", await measure(s, PUSHES.kafka, SYNCS.kafka), base, 250));
    } finally {
      await s.stop();
    }
  } finally {
    await broker?.close();
    await server?.stop();
  }
  return out;
}

if (import.meta.main) console.table(await run());
