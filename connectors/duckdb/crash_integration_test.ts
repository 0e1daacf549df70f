/**
 * The DuckDB analytics sink through the processor host on the real broker: a process SIGKILLed after a sink
 * flush committed and before the input offsets were committed, then started again, ends with exactly one row
 * per record (raw history), the same validity intervals and sync runs as one clean pass over the same
 * records, and it did receive records again that were already written (so the dedupe was exercised).
 */
import assert from "node:assert/strict";
import type { Broker } from "../../pipeline/broker/types.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { decode, encode } from "../../pipeline/serde.ts";
import { needs, requireKafka } from "../../pipeline/testing/env.ts";
import { openDuckDb } from "./engine.ts";
import { ASSETS_TOPIC } from "../../schemas/assets.ts";
import { SYNC_EVENTS_TOPIC } from "../../schemas/sync_events.ts";
import { assetRecord, DAY, syncEventRecord } from "./_fixtures.ts";
import type { AnalyticsRecord } from "../../pipeline/analytics/rows.ts";

const WORKER = new URL("../../pipeline/testing/analytics_worker.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const TOPICS = [ASSETS_TOPIC.name, SYNC_EVENTS_TOPIC.name];

interface Line {
  event: string;
  offset?: number;
  stats?: { flushes: number; records: number; redelivered: number };
}

/** Runs the worker to its end (it exits by itself, or SIGKILLs itself); returns its lines and exit signal. */
async function runWorker(args: string[], timeoutMs = 90_000) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKER, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const out = await new Response(child.stdout).text();
  clearTimeout(timer);
  const status = await child.status;
  const err = await stderr;
  const lines = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Line);
  if (status.code !== 0 && status.signal !== "SIGKILL") {
    throw new Error(`worker exited with ${status.code}:\n${err.slice(-2000)}`);
  }
  return { lines, signal: status.signal, stderr: err };
}

/** Produces asset changes over 60 keys (create, updates, some deletes) and unique sync attempts. */
async function produce(broker: Broker, n: number): Promise<void> {
  // Recent timestamps: the broker's 7-day retention must not delete them during the test.
  const T0 = Date.now() - 3 * DAY;
  const producer = await broker.producer();
  try {
    const assets: AnalyticsRecord[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const name = `//compute.googleapis.com/projects/p1/global/firewalls/crash-${i % 60}`;
      const type = !seen.has(name)
        ? "resource_created"
        : i % 7 === 0
        ? "resource_deleted"
        : "resource_updated";
      if (type === "resource_deleted") seen.delete(name);
      else seen.add(name);
      assets.push(assetRecord(i, name, type, T0 + i * 60_000));
    }
    const runs = Array.from(
      { length: n / 2 },
      (_, i) => syncEventRecord(i, `crash-${crypto.randomUUID()}`, T0 + i * DAY / 100),
    );
    for (const [topic, recs] of [[ASSETS_TOPIC.name, assets], [SYNC_EVENTS_TOPIC.name, runs]] as const) {
      for (let i = 0; i < recs.length; i += 200) {
        await producer.send(
          topic,
          recs.slice(i, i + 200).map((r) => ({
            key: r.key,
            value: encode(topic, r.value),
            timestamp: r.timestamp,
          })),
        );
      }
    }
  } finally {
    await producer.close();
  }
}

/** Every record of the topics, read back from the broker (what one clean pass sees). */
async function readAll(broker: Broker): Promise<AnalyticsRecord[]> {
  const admin = broker.admin();
  const highs = new Map<string, number>();
  for (const t of TOPICS) {
    for (const h of await admin.topicOffsets(t)) highs.set(`${t}:${h.partition}`, h.high);
  }
  const out: AnalyticsRecord[] = [];
  const reader = broker.reader({ topics: TOPICS, from: "earliest" });
  const pos = new Map<string, number>();
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const check = () => {
    if ([...highs].every(([tp, h]) => (pos.get(tp) ?? 0) >= h)) finish();
  };
  check();
  const running = reader.run((batch) => {
    for (const r of batch.records) {
      out.push({
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key: r.key,
        value: decode(r.topic, r.value),
      });
      pos.set(`${r.topic}:${r.partition}`, r.offset + 1);
    }
    check();
    return Promise.resolve();
  });
  await done;
  await reader.stop();
  await running;
  return out;
}

Deno.test({
  name: "kafka: the DuckDB sink killed between flush and commit, restarted, has no duplicate or missing row",
  ignore: needs("kafka"),
  async fn() {
    const brokers = requireKafka();
    const { createBroker } = await import("../../pipeline/broker/mod.ts");
    const broker = await createBroker({
      kind: "kafka",
      brokers: brokers.split(","),
      clientId: "duckdb-crash",
      logger: silentLogger,
    });
    const dir = await Deno.makeTempDir({ prefix: "lzsync-duckdb-crash-" });
    try {
      await broker.admin().createTopics(
        TOPICS.map((t) => [ASSETS_TOPIC, SYNC_EVENTS_TOPIC].find((d) => d.name === t)!).map((d) => ({
          name: d.name,
          partitions: d.partitions,
          compacted: d.compacted,
        })),
      );
      await produce(broker, 1200);
      const app = `duckdb-crash-${crypto.randomUUID().slice(0, 8)}`;
      const db = `${dir}/analytics.duckdb`;
      const args = [
        "--kafka",
        brokers,
        "--app",
        app,
        "--db",
        db,
        "--topics",
        TOPICS.join(","),
        "--max-batch",
        "100",
      ];

      const first = await runWorker([...args, "--die-before-commit", "4"]);
      assert.equal(first.signal, "SIGKILL", `the worker did not die before its 4th commit:\n${first.stderr}`);
      const dying = first.lines.find((l) => l.event === "dying");
      assert.ok(dying && dying.stats!.records > 0, "nothing was flushed before the kill");

      const second = await runWorker([...args, "--until-caught-up"]);
      assert.ok(second.lines.some((l) => l.event === "caught_up"), `never caught up:\n${second.stderr}`);
      const stats = second.lines.find((l) => l.event === "stopped")!.stats!;
      assert.ok(stats.redelivered > 0, "the restart got no record again: the crash window was not exercised");

      // One clean pass over the same records, in memory, is the reference.
      const records = await readAll(broker);
      const ref = await openDuckDb({ path: ":memory:", log: silentLogger });
      const got = await openDuckDb({ path: db, log: silentLogger, readOnly: true });
      try {
        for (const r of records) ref.add(r);
        await ref.flush();
        const raw = await got.query(
          `SELECT COUNT(*) AS n, COUNT(DISTINCT ("partition", "offset")) AS d FROM raw_lz_assets_v1`,
        );
        const expected = records.filter((r) => r.topic === ASSETS_TOPIC.name).length;
        assert.deepEqual(raw, [{ n: expected, d: expected }]);
        for (
          const sql of [
            `SELECT * FROM raw_lz_assets_v1 ORDER BY "offset"`,
            `SELECT * FROM raw_lz_sync_events_v1 ORDER BY "offset"`,
            `SELECT * FROM assets_history ORDER BY "offset"`,
            `SELECT * FROM sync_runs ORDER BY "offset"`,
          ]
        ) {
          const [a, b] = [await got.query(sql), await ref.query(sql)];
          assert.equal(a.length, b.length, sql);
          assert.deepEqual(a, b, sql);
        }
        const open = await got.query(
          `SELECT COUNT(*) AS n FROM assets_history WHERE valid_to IS NULL AND key LIKE '%/crash-%'`,
        );
        assert.ok((open[0].n as number) > 0 && (open[0].n as number) <= 60);
      } finally {
        await ref.close();
        await got.close();
      }
    } finally {
      await broker.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
