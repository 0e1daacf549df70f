/**
 * The Kafka broker: the {@link Broker} contract filled with kafkajs against Apache Kafka or Redpanda.
 *
 * kafkajs has eager rebalancing only and no KIP-447 fencing, so lzsync runs at-least-once with idempotent
 * effects: the producer is idempotent (acks=all, one request in flight), consumers never auto-commit, and
 * every partition a member had is handed to `onRevoked` before its JoinGroup is sent (so before any other
 * member can be given it). Partitions are assigned co-partitioned (partition p of every input on one
 * member). Every call that reaches the network is bounded in time and fails with an {@link LzError} that
 * names the address and what to check.
 *
 * Transport tuning (see kafka/patches.ts and {@link noDelaySocketFactory}): TCP_NODELAY sockets, an
 * allocation-free varint encoder and a request queue without kafkajs's 1 ms idle timer.
 *
 * Files: kafka/admin.ts (topics, groups, offsets), kafka/producer.ts, kafka/consumer.ts (group member),
 * kafka/reader.ts (group-less reads from partition leaders), kafka/records.ts (record conversion),
 * kafka/errors.ts (error mapping), kafka/internals.ts, kafka/fetch.ts and kafka/patches.ts (where lzsync
 * reaches below kafkajs's public API).
 */
import net from "node:net";
import { type ISocketFactory, Kafka, type logCreator, logLevel } from "kafkajs";
import { LzError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../log.ts";
import type { Admin, Broker, Consumer, ConsumerOptions, Producer, Reader, ReaderOptions } from "../types.ts";
import { toLzError, unreachableMessage, withDeadline } from "./errors.ts";
import { createKafkaAdmin } from "./admin.ts";
import type { KafkaAdminHandle, KafkaContext, KafkaRetryOptions } from "./context.ts";
export type { KafkaRetryOptions } from "./context.ts";
import { createKafkaProducer } from "./producer.ts";
import { KafkaConsumer } from "./consumer.ts";
import { KafkaReader } from "./reader.ts";
import { installKafkajsPatches, patchFallbackWarnings } from "./patches.ts";

/** The kafkajs every reach-in was written against (pinned in deno.json; see kafka/private_test.ts). */
const KAFKAJS_VERSION = "2.2.4";
/** A patch fallback is logged once per process, not once per broker client. */
let patchesReported = false;

/** Options of {@link createKafkaBroker}. */
export interface KafkaBrokerOptions {
  /** Bootstrap addresses, `host:port`. */
  brokers: string[];
  clientId?: string;
  logger?: Logger;
  /** TCP connect timeout per attempt (default 3,000 ms). */
  connectionTimeoutMs?: number;
  /** Timeout of one Kafka request (default 15,000 ms; fetches add their wait time). */
  requestTimeoutMs?: number;
  /** Bounded retries of every kafkajs call (defaults: 5 retries, 250 ms doubling up to 4 s ≈ 8 s in all). */
  retry?: KafkaRetryOptions;
  /** How long `send` keeps retrying while the broker is unreachable before it rejects (default 60,000 ms). */
  deliveryTimeoutMs?: number;
  /** Consumer group session timeout (default 10,000 ms): how fast a dead member's partitions move on. */
  sessionTimeoutMs?: number;
  /** How long a fetch waits for data when there is none (default 100 ms). */
  maxWaitTimeMs?: number;
  /**
   * Batches of different partitions a consumer hands to `eachBatch` at the same time (default 4); batches
   * of one partition are always one after another.
   */
  partitionsConsumedConcurrently?: number;
}

/** The Kafka broker, plus the address it was opened with. */
export interface KafkaBroker extends Broker {
  readonly kind: "kafka";
}

/** Routes kafkajs warnings and errors to our logger; kafkajs's own info/debug chatter is dropped. */
function kafkajsLogCreator(log: Logger): logCreator {
  return () => ({ namespace, level, log: entry }) => {
    const { message, timestamp: _t, logger: _l, stack: _s, ...rest } = entry as Record<string, unknown>;
    const fields: Record<string, unknown> = { kafkajs: namespace };
    for (
      const k of ["groupId", "memberId", "topic", "partition", "broker", "error", "retryCount", "clientId"]
    ) {
      if (rest[k] !== undefined) fields[k] = rest[k];
    }
    // We bound the idempotent producer's retries on purpose (see kafka/producer.ts); kafkajs warns each time.
    if (/Limiting retries for the idempotent producer/.test(String(message))) return;
    // kafkajs logs every failed attempt as an error, even those it retries; lzsync reports what finally
    // fails itself, so kafkajs's own errors are warnings here.
    if (level === logLevel.ERROR || level === logLevel.WARN) log.warn(String(message), fields);
  };
}

/**
 * kafkajs's socket factory plus TCP_NODELAY. kafkajs leaves Nagle's algorithm on, so a small request that
 * follows another waits for the peer's delayed ACK (~40 ms on Linux): every produce, commit and fetch
 * round trip of a pipeline paid that.
 */
export const noDelaySocketFactory: ISocketFactory = ({ host, port, onConnect }) => {
  const socket = net.connect({ host, port, noDelay: true }, onConnect);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 60_000);
  return socket;
};

/**
 * Opens a Kafka broker and checks that it answers (bounded: a bad or dead address rejects with an LzError
 * `BROKER_UNAVAILABLE` that names the address, never hangs).
 */
export async function createKafkaBroker(options: KafkaBrokerOptions): Promise<KafkaBroker> {
  const brokers = options.brokers.map((b) => b.trim()).filter((b) => b.length > 0);
  if (brokers.length === 0) {
    throw new LzError(
      "CONFIG",
      "broker.brokers is empty: set at least one Kafka address (host:port) in lzsync.yaml",
    );
  }
  for (const b of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b)) {
      throw new LzError(
        "CONFIG",
        `broker.brokers: "${b}" is not a host:port address (for example 127.0.0.1:9092); fix it in lzsync.yaml`,
        { detail: { broker: b } },
      );
    }
  }
  const address = brokers.join(",");
  const log = (options.logger ?? silentLogger).child("broker.kafka", { brokers: address });
  const patches = installKafkajsPatches();
  if (!patchesReported) {
    patchesReported = true;
    for (const w of patchFallbackWarnings(patches)) log.warn(w, { kafkajs: KAFKAJS_VERSION });
  }
  const connectionTimeout = options.connectionTimeoutMs ?? 3_000;
  const retry: Required<KafkaRetryOptions> = {
    retries: options.retry?.retries ?? 5,
    initialRetryTime: options.retry?.initialRetryTime ?? 250,
    maxRetryTime: options.retry?.maxRetryTime ?? 4_000,
  };
  // Worst case of one bounded kafkajs connect: every attempt times out, plus every backoff, plus slack.
  let backoff = 0;
  for (
    let i = 0, t = retry.initialRetryTime;
    i < retry.retries;
    i++, t = Math.min(t * 2, retry.maxRetryTime)
  ) {
    backoff += t * 1.2;
  }
  const connectDeadlineMs = Math.ceil((retry.retries + 1) * (connectionTimeout + 1_000) + backoff + 2_000);

  const clientId = options.clientId ?? "lzsync";
  const newKafka = (id: string) =>
    new Kafka({
      clientId: id,
      brokers,
      connectionTimeout,
      requestTimeout: options.requestTimeoutMs ?? 15_000,
      retry: { ...retry, factor: 0.2, multiplier: 2 },
      logLevel: logLevel.WARN,
      logCreator: kafkajsLogCreator(log.child("kafkajs")),
      socketFactory: noDelaySocketFactory,
    });
  const kafka = newKafka(clientId);
  const byClientId = new Map<string, Kafka>([[clientId, kafka]]);

  const open = new Set<{ stop(): Promise<void> }>();
  let adminHandle: KafkaAdminHandle | null = null;
  let closed = false;
  const ctx: KafkaContext = {
    kafka,
    kafkaFor(id) {
      if (!id) return kafka;
      let k = byClientId.get(id);
      if (!k) byClientId.set(id, k = newKafka(id));
      return k;
    },
    address,
    log,
    clientId,
    connectDeadlineMs,
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? 60_000,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    maxWaitTimeMs: options.maxWaitTimeMs ?? 100,
    partitionsConsumedConcurrently: Math.max(1, options.partitionsConsumedConcurrently ?? 4),
    retry,
    admin() {
      if (closed) throw new LzError("BROKER_CLOSED", `the Kafka broker client (${address}) is closed`);
      adminHandle ??= createKafkaAdmin(ctx);
      return adminHandle;
    },
    async connect(what, connect, disconnect) {
      try {
        await withDeadline(
          connect(),
          connectDeadlineMs,
          () =>
            new LzError("BROKER_UNAVAILABLE", unreachableMessage(address, "timed out"), {
              retriable: true,
              detail: { brokers: address, action: what },
            }),
        );
      } catch (err) {
        await disconnect().catch(() => {});
        throw toLzError(err, address, what);
      }
    },
    track: (c) => void open.add(c),
    untrack: (c) => void open.delete(c),
  };

  // Fail fast on a bad address: the admin connects (bounded) and reads the cluster metadata once.
  await ctx.admin().ready();
  log.debug("connected", {});

  const broker: KafkaBroker = {
    kind: "kafka",
    address: `kafka ${address}`,
    admin(): Admin {
      return ctx.admin().api;
    },
    producer(): Promise<Producer> {
      if (closed) return Promise.reject(new LzError("BROKER_CLOSED", `the Kafka broker client is closed`));
      return createKafkaProducer(ctx);
    },
    consumer(opts: ConsumerOptions): Consumer {
      if (closed) throw new LzError("BROKER_CLOSED", `the Kafka broker client is closed`);
      return new KafkaConsumer(ctx, opts);
    },
    reader(opts: ReaderOptions): Reader {
      if (closed) throw new LzError("BROKER_CLOSED", `the Kafka broker client is closed`);
      return new KafkaReader(ctx, opts);
    },
    async close() {
      if (closed) return;
      // Consumers and readers still need the admin while they stop.
      await Promise.allSettled([...open].map((c) => c.stop()));
      closed = true;
      await adminHandle?.close();
    },
  };
  return broker;
}
