/**
 * The real-time layer as a {@link Service}: a streaming-pull subscriber (`@google-cloud/pubsub`) on the
 * configured subscription with flow control (`max_messages` outstanding, no excess), that acknowledges a
 * message only after its event is acknowledged by the broker on `lz.infra.events.v1` and nacks it when the
 * produce fails (Pub/Sub redelivers). A malformed message goes to `lz.dlq.v1` with the reason and is acked,
 * so it cannot redeliver forever; the feed's welcome message is acked and skipped. A message id already
 * produced by this process is acked without a second produce; across processes, a redelivered duplicate
 * reaches the topic again and the assets processor's update-time merge gives it no effect.
 *
 * The layer reports on `lz.sync.events.v1` (layer `pubsub`) every `reportIntervalMs`: messages since the last
 * report, the newest publish time (source → materialized latency) and its receipt time, or the stream error.
 */
import { type Message, PubSub, type Subscription } from "@google-cloud/pubsub";
import { Counter, type Registry } from "prom-client";
import type { AppDeps, Service } from "../../pipeline/service.ts";
import type { Producer } from "../../pipeline/broker/types.ts";
import type { Logger } from "../../pipeline/log.ts";
import { describeError } from "../../pipeline/errors.ts";
import { encode } from "../../pipeline/serde.ts";
import { bytesToBase64 } from "../../pipeline/base64.ts";
import { INFRA_EVENTS_TOPIC } from "../../schemas/infra_events.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";
import { parseMessage } from "./parse.ts";
import { ProduceBatcher, RecentIds } from "./batcher.ts";

/** Options of {@link createPubsubSubscriber}. */
export interface PubsubSubscriberOptions {
  projectId: string;
  /** Subscription id (e.g. `portal-lz-events`) or full name. */
  subscription: string;
  /** Flow control: messages outstanding at once. */
  maxMessages: number;
  /** Longest an ack waits to be sent with others, in ms (default 10; acks follow the broker ack). */
  ackMaxDelayMs?: number;
  /** `host:port` of the emulator (from `PUBSUB_EMULATOR_HOST`); production endpoint when absent. */
  emulatorHost?: string;
  /** How often the layer reports into sync status (default 60 s). */
  reportIntervalMs?: number;
  /** Message ids remembered for duplicate suppression (default 100,000). */
  dedupeSize?: number;
  /**
   * Creates the topic and the subscription when missing (first runs against the emulator, docker compose).
   * Production subscriptions are provisioned by the Landing Zone, not by lzsync.
   */
  createIfMissing?: { topic: string };
  /** Fault injection for tests: what to do after a successful produce (default ack). */
  afterProduce?(messageId: string): "ack" | "nack" | "drop";
  /** Fault injection for tests: throw to make the produce fail. */
  beforeProduce?(messageId: string): void;
}

/** Counts since start. */
export interface SubscriberStats {
  received: number;
  produced: number;
  duplicates: number;
  malformed: number;
  skipped: number;
  nacked: number;
}

/**
 * Client options for the emulator: plaintext to `host`, and a fixed universe domain so google-auth-library
 * never probes the GCE metadata server (no network beyond the emulator).
 */
export function emulatorOptions(host: string) {
  return { apiEndpoint: host, emulatorMode: true, universeDomain: "googleapis.com" };
}

async function ensureSubscription(client: PubSub, topicId: string, subscription: string, log: Logger) {
  const topic = client.topic(topicId);
  const [topicExists] = await topic.exists();
  if (!topicExists) {
    await topic.create();
    log.info("created Pub/Sub topic", { topic: topic.name });
  }
  const sub = client.subscription(subscription);
  const [subExists] = await sub.exists();
  if (!subExists) {
    await topic.createSubscription(subscription.split("/").pop()!, { ackDeadlineSeconds: 30 });
    log.info("created Pub/Sub subscription", { subscription });
  }
}

/** Creates the subscriber service. */
export function createPubsubSubscriber(
  deps: AppDeps,
  o: PubsubSubscriberOptions,
): Service & { stats(): SubscriberStats } {
  const log = deps.log.child("pubsub", { subscription: o.subscription });
  const registry: Registry = deps.metrics;
  const messages =
    (registry.getSingleMetric("lzsync_pubsub_messages_total") as Counter<string> | undefined) ??
      new Counter({
        name: "lzsync_pubsub_messages_total",
        help: "Pub/Sub messages by outcome (produced, duplicate, malformed, skipped, nacked)",
        labelNames: ["outcome"],
        registers: [registry],
      });
  const stats: SubscriberStats = {
    received: 0,
    produced: 0,
    duplicates: 0,
    malformed: 0,
    skipped: 0,
    nacked: 0,
  };
  const seen = new RecentIds(o.dedupeSize ?? 100_000);
  const inflight = new Map<string, Promise<boolean>>();
  let client: PubSub | undefined;
  let sub: Subscription | undefined;
  let producer: Producer | undefined;
  let events: ProduceBatcher | undefined;
  let dlq: ProduceBatcher | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let stopping: Promise<void> | undefined;
  const window = {
    count: 0,
    newestPublish: null as string | null,
    /** When the newest-published message's event was acknowledged by the broker (materialized). */
    producedAt: null as number | null,
    receivedAt: null as string | null,
    started: 0,
  };
  let streamError: string | null = null;
  const fullName = o.subscription.includes("/")
    ? o.subscription
    : `projects/${o.projectId}/subscriptions/${o.subscription}`;

  function count(outcome: keyof SubscriberStats & string): void {
    stats[outcome as "produced"]++;
    messages.inc({ outcome });
  }

  /** Produces the message's outcome; true when it may be acked. */
  async function handle(m: Message, receivedAt: number): Promise<boolean> {
    const parsed = parseMessage({
      id: m.id,
      data: new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength),
      attributes: m.attributes ?? {},
      publishTime: m.publishTime.toISOString(),
      subscription: fullName,
    });
    if (parsed.kind === "skip") {
      count("skipped");
      log.info("message skipped", { message_id: m.id, reason: parsed.reason });
      return true;
    }
    o.beforeProduce?.(m.id);
    if (parsed.kind === "malformed") {
      await dlq!.send({
        key: `pubsub:${fullName}/${m.id}`,
        value: encode(DLQ_TOPIC.name, {
          error: parsed.error,
          error_code: "VALIDATION",
          stage: "pubsub",
          attempts: 1,
          source: { topic: `pubsub:${fullName}`, partition: -1, offset: -1 },
          original: { key: m.id, value_base64: bytesToBase64(m.data), headers: { ...(m.attributes ?? {}) } },
          failed_at: new Date(deps.clock.now()).toISOString(),
        }),
      });
      count("malformed");
      log.warn("malformed message sent to the DLQ", { message_id: m.id, error: parsed.error });
      return true;
    }
    await events!.send({
      key: parsed.key,
      value: encode(INFRA_EVENTS_TOPIC.name, parsed.event),
      headers: { "lz-pubsub-message-id": m.id, "lz-received-at": new Date(receivedAt).toISOString() },
    });
    count("produced");
    window.count++;
    const pub = parsed.event.publish_time;
    if (!window.newestPublish || pub > window.newestPublish) {
      window.newestPublish = pub;
      window.receivedAt = new Date(receivedAt).toISOString();
      window.producedAt = deps.clock.now();
    }
    return true;
  }

  function onMessage(m: Message): void {
    const receivedAt = deps.clock.now();
    stats.received++;
    if (seen.has(m.id)) {
      count("duplicates");
      m.ack();
      return;
    }
    const running = inflight.get(m.id);
    if (running) {
      // Redelivered while the first delivery is still producing: settle this one like that one.
      count("duplicates");
      running.then((ok) => (ok ? m.ack() : m.nack()));
      return;
    }
    const p = handle(m, receivedAt).then(
      () => true,
      (err) => {
        log.warn("produce failed; nacking for redelivery", { message_id: m.id, error: describeError(err) });
        return false;
      },
    );
    inflight.set(m.id, p);
    p.then((ok) => {
      inflight.delete(m.id);
      if (!ok) {
        count("nacked");
        m.nack();
        return;
      }
      seen.add(m.id);
      const what = o.afterProduce?.(m.id) ?? "ack";
      if (what === "ack") m.ack();
      else if (what === "nack") m.nack();
    });
  }

  async function report(): Promise<void> {
    const now = deps.clock.now();
    const ev: SyncEvent = {
      id: `pubsub-${now}-${crypto.randomUUID().slice(0, 8)}`,
      layer: "pubsub",
      ok: streamError === null,
      items: window.count,
      started_at: new Date(window.started).toISOString(),
      // Latency in sync status is measured to finished_at: for a window with messages, the moment its newest
      // message was on the broker (not this report's time); an idle window is a liveness heartbeat.
      finished_at: new Date(window.producedAt ?? now).toISOString(),
      event_time: window.newestPublish,
      received_at: window.receivedAt,
      next_sync: new Date(now + (o.reportIntervalMs ?? 60_000)).toISOString(),
      trigger: "event",
      ref: fullName,
    };
    if (streamError) ev.error = streamError.slice(0, 2000);
    Object.assign(window, {
      count: 0,
      newestPublish: null,
      receivedAt: null,
      producedAt: null,
      started: now,
    });
    streamError = null;
    try {
      await producer!.send(SYNC_EVENTS_TOPIC.name, [{
        key: "pubsub",
        value: encode(SYNC_EVENTS_TOPIC.name, ev),
      }]);
    } catch (err) {
      log.warn("could not report sync status", { error: describeError(err) });
    }
  }

  return {
    name: "pubsub-subscriber",
    topics: { writes: [INFRA_EVENTS_TOPIC.name, SYNC_EVENTS_TOPIC.name, DLQ_TOPIC.name] },
    stats: () => ({ ...stats }),
    async start() {
      producer = await deps.broker.producer();
      await deps.broker.admin().createTopics(
        [INFRA_EVENTS_TOPIC, DLQ_TOPIC, SYNC_EVENTS_TOPIC].map((t) => ({
          name: t.name,
          partitions: t.partitions,
          compacted: t.compacted,
        })),
      );
      events = new ProduceBatcher(producer, INFRA_EVENTS_TOPIC.name);
      dlq = new ProduceBatcher(producer, DLQ_TOPIC.name);
      client = new PubSub({
        projectId: o.projectId,
        ...(o.emulatorHost ? emulatorOptions(o.emulatorHost) : {}),
      });
      if (o.createIfMissing) await ensureSubscription(client, o.createIfMissing.topic, fullName, log);
      sub = client.subscription(fullName, {
        flowControl: { maxMessages: o.maxMessages, allowExcessMessages: false },
        batching: { maxMessages: 100, maxMilliseconds: o.ackMaxDelayMs ?? 10 },
      });
      sub.on("message", onMessage);
      sub.on("error", (err: Error) => {
        streamError = describeError(err);
        log.error("subscription stream error", { error: streamError });
      });
      window.started = deps.clock.now();
      timer = setInterval(() => void report(), o.reportIntervalMs ?? 60_000);
      log.info("subscribed", { max_messages: o.maxMessages, emulator: Boolean(o.emulatorHost) });
    },
    stop() {
      stopping ??= (async () => {
        if (timer !== undefined) clearInterval(timer);
        // No new work; finish (and ack) what is in flight; close nacks whatever the library still holds.
        sub?.removeAllListeners("message");
        await Promise.allSettled([...inflight.values()]);
        await events?.idle();
        await dlq?.idle();
        await sub?.close().catch((err: unknown) => log.warn("close failed", { error: describeError(err) }));
        if (producer) {
          await report();
          await producer.close();
        }
        await client?.close();
      })();
      return stopping;
    },
  };
}
