/**
 * What each kafkajs patch of pipeline/broker/kafka/patches.ts buys, measured in one run against stock kafkajs:
 *
 * 1. fast varints — CPU time to encode one record with kafkajs's own Record encoder (no broker), and the
 *    bare kafkajs produce→consume rate with only this patch on;
 * 2. quiet request queue — request-queue timer wake-ups per second of an idle, connected kafkajs producer,
 *    and the bare loop rate with only this patch on.
 *
 * Kafka: `LZSYNC_TEST_KAFKA_BROKERS` when set, otherwise a broker started here. `LZSYNC_BENCH_QUICK=1`
 * shrinks the counts.
 */
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import { Kafka, logLevel } from "kafkajs";
import type { BenchResult } from "./types.ts";
import { bareKafkajsLoop, benchValue } from "./kafka_baseline.ts";
import {
  kafkajsRequestQueue,
  useFastVarints,
  useKafkajsPatches,
  useQuietRequestQueue,
} from "../pipeline/broker/kafka/patches.ts";
import { startKafka } from "../pipeline/testing/kafka_server.ts";

const require = createRequire(import.meta.url);

/** µs to encode one ~100-byte record with a key and one header through kafkajs's Record encoder. */
function encodeMicros(n: number): number {
  const Record = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as (
    r: Record<string, unknown>,
  ) => { buffer: Buffer };
  const value = Buffer.from(benchValue(1));
  const key = Buffer.from("k123");
  const headers = { "lz-src": Buffer.from("bench") };
  let sink = 0;
  for (let i = 0; i < 2_000; i++) {
    sink += Record({ offsetDelta: i, timestampDelta: i, key, value, headers }).buffer.length;
  }
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    sink += Record({ offsetDelta: i, timestampDelta: i * 3, key, value, headers }).buffer.length;
  }
  const us = ((performance.now() - t0) * 1000) / n;
  if (sink === 0) throw new Error("nothing encoded");
  return us;
}

/** Request-queue timer wake-ups per second of one connected, idle kafkajs producer over `ms`. */
async function idleWakeups(brokers: string[], ms: number): Promise<number> {
  const proto = kafkajsRequestQueue().prototype as unknown as { checkPendingRequests(): void };
  const own = proto.checkPendingRequests;
  let calls = 0;
  proto.checkPendingRequests = function (this: unknown) {
    calls++;
    return own.call(this);
  };
  const producer = new Kafka({ brokers, clientId: "bench-idle", logLevel: logLevel.NOTHING }).producer();
  try {
    await producer.connect();
    await new Promise((r) => setTimeout(r, 300)); // first responses in, then idle
    calls = 0;
    await new Promise((r) => setTimeout(r, ms));
    return (calls * 1000) / ms;
  } finally {
    await producer.disconnect().catch(() => {});
    proto.checkPendingRequests = own;
  }
}

export async function run(): Promise<BenchResult[]> {
  const quick = Deno.env.get("LZSYNC_BENCH_QUICK") === "1";
  const n = quick ? 50_000 : 200_000;
  const before = useKafkajsPatches(false);
  let server: { brokers: string; stop(): Promise<void> } | null = null;
  try {
    useFastVarints(false);
    const stockUs = encodeMicros(n);
    useFastVarints(true);
    const fastUs = encodeMicros(n);
    useFastVarints(false);

    let brokers = Deno.env.get("LZSYNC_TEST_KAFKA_BROKERS");
    if (!brokers) {
      server = await startKafka();
      brokers = server.brokers;
    }
    const list = brokers.split(",");
    useQuietRequestQueue(false);
    const stockIdle = await idleWakeups(list, 2_000);
    useQuietRequestQueue(true);
    const quietIdle = await idleWakeups(list, 2_000);
    useQuietRequestQueue(false);

    await bareKafkajsLoop(list, 10_000); // warm-up
    const stockFirst = await bareKafkajsLoop(list, n);
    useFastVarints(true);
    const varints = await bareKafkajsLoop(list, n);
    useFastVarints(false);
    useQuietRequestQueue(true);
    const queue = await bareKafkajsLoop(list, n);
    useQuietRequestQueue(false);
    // stock measured first and last: its mean is the baseline, so neither patch gains from running later
    const stock = (stockFirst + await bareKafkajsLoop(list, n)) / 2;
    return [
      {
        name: "patch 1 (fast varints): encode one record, µs",
        value: fastUs,
        unit: "µs/record",
        baseline: { name: "kafkajs's own varint writers", value: stockUs },
        ratio: fastUs / stockUs,
      },
      {
        name: "patch 1 (fast varints): bare kafkajs produce→consume",
        value: varints,
        unit: "events/s",
        baseline: { name: "stock kafkajs (mean of first and last run)", value: stock },
        ratio: varints / stock,
      },
      {
        name: "patch 2 (quiet request queue): idle producer timer wake-ups",
        value: quietIdle,
        unit: "wake-ups/s",
        baseline: { name: "stock kafkajs", value: stockIdle },
        ratio: stockIdle === 0 ? undefined : quietIdle / stockIdle,
      },
      {
        name: "patch 2 (quiet request queue): bare kafkajs produce→consume",
        value: queue,
        unit: "events/s",
        baseline: { name: "stock kafkajs (mean of first and last run)", value: stock },
        ratio: queue / stock,
      },
    ];
  } finally {
    useKafkajsPatches(before);
    await server?.stop();
  }
}

if (import.meta.main) console.log(await run());
