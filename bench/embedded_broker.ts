/**
 * Embedded broker throughput: append (produce) and consume rates, a stateful count loop at the broker level
 * (consume → count per key → produce changed counts to a compacted changelog → commit, per batch), all
 * in-memory and on a data directory, plus the time to reopen a data directory of 1M records.
 * The baseline of each rate is the same loop on the in-memory broker measured in the same run.
 */
import type { BenchResult } from "./types.ts";
import { createEmbeddedBroker } from "../pipeline/broker/embedded/mod.ts";
import type { Broker, ProduceRecord } from "../pipeline/broker/types.ts";

const enc = new TextEncoder();
const KEYS = 10_000;
const BATCH = 1_000;

function makeBatches(n: number): ProduceRecord[][] {
  const out: ProduceRecord[][] = [];
  for (let i = 0; i < n; i += BATCH) {
    const b: ProduceRecord[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      const key = `resource-${j % KEYS}`;
      b.push({
        key,
        value: enc.encode(`{"id":"${key}","kind":"instance","seq":${j},"zone":"europe-west1-b"}`),
      });
    }
    out.push(b);
  }
  return out;
}

async function produceRate(broker: Broker, topic: string, batches: ProduceRecord[][]): Promise<number> {
  const p = await broker.producer();
  const t0 = performance.now();
  let n = 0;
  for (const b of batches) n += (await p.send(topic, b)).length;
  const s = (performance.now() - t0) / 1000;
  await p.close();
  return n / s;
}

/** Consumes `n` records of `input`; with `stateful`, counts per key and writes changed counts to a changelog. */
async function loopRate(broker: Broker, input: string, n: number, stateful: boolean): Promise<number> {
  const changelog = `${input}-counts-changelog`;
  if (stateful) await broker.admin().createTopics([{ name: changelog, partitions: 4, compacted: true }]);
  const producer = await broker.producer();
  const counts = new Map<string, number>();
  const consumer = broker.consumer({
    groupId: `${input}-${stateful}`,
    topics: [input],
    maxBatchSize: 10_000,
  });
  let seen = 0;
  let bytes = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const t0 = performance.now();
  await consumer.run({
    eachBatch: async (batch) => {
      if (stateful) {
        const changed = new Map<string, number>();
        for (const r of batch.records) {
          const c = (counts.get(r.key!) ?? 0) + 1;
          counts.set(r.key!, c);
          changed.set(r.key!, c);
        }
        const out: ProduceRecord[] = [];
        for (const [k, c] of changed) {
          out.push({ key: k, value: enc.encode(String(c)), partition: batch.partition });
        }
        await producer.send(changelog, out);
      } else for (const r of batch.records) bytes += (r.value?.length ?? 0) + (r.key?.length ?? 0);
      const last = batch.records[batch.records.length - 1];
      await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }]);
      seen += batch.records.length;
      if (seen >= n) done();
    },
  });
  await finished;
  const s = (performance.now() - t0) / 1000;
  await consumer.stop();
  await producer.close();
  if (!stateful && bytes === 0) throw new Error("pass-through loop saw no bytes");
  return n / s;
}

async function scenario(dataDir: string | undefined, n: number) {
  const broker = await createEmbeddedBroker({ dataDir });
  await broker.admin().createTopics([{ name: "in", partitions: 4 }]);
  const produce = await produceRate(broker, "in", makeBatches(n));
  const passThrough = await loopRate(broker, "in", n, false);
  const count = await loopRate(broker, "in", n, true);
  await broker.close();
  return { produce, passThrough, count };
}

async function reopenSeconds(dir: string, n: number): Promise<number> {
  const b1 = await createEmbeddedBroker({ dataDir: dir });
  await b1.admin().createTopics([{ name: "big", partitions: 4 }]);
  const p = await b1.producer();
  for (let i = 0; i < n; i += 10 * BATCH) await p.send("big", makeBatches(10 * BATCH).flat());
  await b1.close();
  const t0 = performance.now();
  const b2 = await createEmbeddedBroker({ dataDir: dir });
  const s = (performance.now() - t0) / 1000;
  const high = (await b2.admin().topicOffsets("big")).reduce((a, o) => a + o.high, 0);
  await b2.close();
  if (high < n) throw new Error(`reopen found ${high} records, expected ${n}`);
  return s;
}

/** Runs the embedded broker bench. `LZSYNC_BENCH_QUICK=1` shrinks it. */
export async function run(): Promise<BenchResult[]> {
  const quick = Deno.env.get("LZSYNC_BENCH_QUICK") === "1" || Deno.args.includes("--quick");
  const n = quick ? 200_000 : 1_000_000;
  await scenario(undefined, 100_000); // warm-up: JIT, so the first measured case is not penalized
  const mem = await scenario(undefined, n);
  const dir = await Deno.makeTempDir({ prefix: "lzsync-bench-" });
  try {
    const disk = await scenario(`${dir}/a`, n);
    const reopen = await reopenSeconds(`${dir}/b`, n);
    const rate = (
      name: string,
      value: number,
      base?: number,
      target?: string,
      pass?: boolean,
    ): BenchResult => ({
      name,
      value: Math.round(value),
      unit: "records/s",
      ...(base
        ? { baseline: { name: "same loop, in-memory", value: Math.round(base) }, ratio: value / base }
        : {}),
      ...(target ? { target, pass } : {}),
    });
    return [
      rate("append (in-memory)", mem.produce),
      rate("consume (touch each record)+commit (in-memory)", mem.passThrough),
      rate("count loop (in-memory)", mem.count, undefined, ">= 200,000 records/s", mem.count >= 200_000),
      rate("append (data dir)", disk.produce, mem.produce),
      rate("consume (touch each record)+commit (data dir)", disk.passThrough, mem.passThrough),
      rate("count loop (data dir)", disk.count, mem.count, ">= 200,000 records/s", disk.count >= 200_000),
      {
        name: `reopen a data dir of ${n.toLocaleString("en-US")} records`,
        value: reopen,
        unit: "s",
        target: "< 10 s",
        pass: reopen < 10,
      },
    ];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) console.table(await run());
