/**
 * The baseline every Kafka figure of `deno task bench` is compared with: a bare kafkajs produce→consume
 * loop on the same broker, with no lzsync layer at all (no serde, no processor host, no broker adapter).
 *
 * It is tuned the way a careful kafkajs user would tune it (batched `send`, `eachBatch`, small waits), so
 * a ratio against it measures what lzsync costs, not what a naive loop wastes. Both sides use the same
 * shape of record: a key out of 1,000 and a ~100-byte value.
 */
import { Buffer } from "node:buffer";
import { Kafka, logLevel } from "kafkajs";
import { noDelaySocketFactory } from "../pipeline/broker/kafka/mod.ts";
import { useKafkajsPatches } from "../pipeline/broker/kafka/patches.ts";

/** Options of {@link bareKafkajsLoop}. */
export interface BareLoopOptions {
  /** Partitions of the throw-away topic (default 4). */
  partitions?: number;
  /** Records per `producer.send` (default 2,000). */
  sendBatch?: number;
  /** Gives up (rejects) after this long (default 120 s). */
  timeoutMs?: number;
  /**
   * `false` (default): stock kafkajs — a hand-written loop as a kafkajs user has it (Nagle on, kafkajs's
   * own encoder and request queue, even if lzsync patched them in this process). `true`: kafkajs as lzsync
   * runs it (TCP_NODELAY sockets and the patches of kafka/patches.ts), which isolates the cost of lzsync's
   * layers from its transport tuning.
   */
  tuned?: boolean;
}

/** A record value of about 100 bytes, like the bench's processor cases. */
export function benchValue(i: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ id: i, kind: "bench", payload: "x".repeat(64) }));
}

/**
 * Produces `n` records to a fresh topic with bare kafkajs while one bare kafkajs consumer reads them, and
 * returns the end-to-end rate: n / (time from the first send to the n-th record consumed), in events/s.
 * The topic and the group are deleted afterwards.
 */
export async function bareKafkajsLoop(
  brokers: string[],
  n: number,
  options: BareLoopOptions = {},
): Promise<number> {
  const partitions = options.partitions ?? 4;
  const sendBatch = options.sendBatch ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const id = crypto.randomUUID().slice(0, 8);
  const topic = `bench.bare.${id}`;
  const groupId = `bench-bare-${id}`;
  const tuned = options.tuned ?? false;
  const patchedBefore = useKafkajsPatches(tuned);
  const kafka = new Kafka({
    brokers,
    clientId: "bench-bare",
    logLevel: logLevel.NOTHING,
    ...(tuned ? { socketFactory: noDelaySocketFactory } : {}),
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytes: 16 << 20 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const values = Array.from({ length: 1000 }, (_, i) => Buffer.from(benchValue(i)));

    let seen = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (m.value) seen++;
        }
        if (seen >= n) resolveDone();
        await Promise.resolve();
      },
    });
    await joined;

    const t0 = performance.now();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`bare kafkajs loop: ${seen}/${n} after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const produce = (async () => {
      for (let i = 0; i < n; i += sendBatch) {
        const messages = [];
        for (let j = i; j < Math.min(n, i + sendBatch); j++) {
          messages.push({ key: `k${j % 1000}`, value: values[j % 1000] });
        }
        await producer.send({ topic, messages, acks: -1 });
      }
    })();
    await Promise.race([Promise.all([produce, done]), timeout]);
    const seconds = (performance.now() - t0) / 1000;
    return n / seconds;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect().catch(() => {});
    useKafkajsPatches(patchedBefore);
  }
}
