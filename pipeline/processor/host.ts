/**
 * The processor host: runs a {@link Topology} as a member of the consumer group `topology.app`, one
 * {@link Task} per assigned partition number. On assignment a task's stores are restored from their
 * changelogs (and the topology's tables read, see `tables.ts`) before any record is processed; after each
 * batch (and on revoke and stop) it checkpoints in this order: flush sinks → produce forwarded outputs and
 * DLQ records → produce dirty changelog records (stamped with the applied source offsets) → commit input
 * offsets, each step awaiting the broker's acks.
 *
 * A crash anywhere loses nothing (uncommitted records are read again) and double-counts nothing (a restore
 * finds the applied source offsets in the changelog and skips records at or below them). Outputs may repeat
 * after a crash: at-least-once, with downstream effects idempotent by key.
 */
import {
  type Broker,
  type Consumer,
  type ConsumerHandlers,
  type GroupOffset,
  type Producer,
  type ProduceRecord,
  RECORD_TOO_LARGE,
  type RecordMetadata,
  type TopicPartition,
  type TopicSpec,
} from "../broker/types.ts";
import { encode } from "../serde.ts";
import type { Clock, Topology } from "./types.ts";
import { changelogTopic } from "./types.ts";
import type { Logger } from "../log.ts";
import type { Service } from "../service.ts";
import type { Registry } from "prom-client";
import { describeError, LzError } from "../errors.ts";
import { topicDef } from "../../schemas/mod.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import { type Checkpoint, Task } from "./task.ts";
import { MemoryStore } from "./store.ts";
import { restoreStores } from "./restore.ts";
import { readTables, type Tables } from "./tables.ts";
import { crashPoint } from "../crash_point.ts";
import { hostMetrics } from "./host_metrics.ts";
import { type DigestRow, stateDigest } from "../digest.ts";

/** What a host is built from (a subset of `AppDeps`). */
export interface HostDeps {
  broker: Broker;
  log: Logger;
  metrics?: Registry;
  clock?: Clock;
}

/** Tuning of a host; every field has a default. */
export interface HostOptions {
  /** Retries of a failing `process()` before the DLQ (default 3). */
  retries?: number;
  /** First retry backoff in ms, doubling (default 50). */
  backoffMs?: number;
  /** First backoff of a failed checkpoint in ms, doubling up to 5 s (default 100). */
  checkpointBackoffMs?: number;
  /** Records per batch, a hint to the broker. */
  maxBatchSize?: number;
  /** How often (real time, ms) due punctuations are checked (default 100). */
  tickMs?: number;
  /** Stop gracefully on SIGINT/SIGTERM (default false: `pipeline/main.ts` owns signals). */
  stopOnSignals?: boolean;
  clientId?: string;
  /** Called after each successful checkpoint (progress reporting, tests). */
  onCheckpoint?(event: { partition: number; commits: GroupOffset[] }): void;
  /** Fault injection for crash tests: runs after the changelog is acknowledged, before the input commit. */
  beforeCommit?(partition: number): void | Promise<void>;
}

/** A running topology. */
export interface ProcessorHost extends Service {
  /** Digest of the in-memory stores of this member's tasks (same format as `pipeline/digest.ts`). */
  digest(): string;
  /** Fires due punctuations now and checkpoints their effects. */
  tick(): Promise<void>;
  /** Partition numbers of this member's tasks. */
  assigned(): number[];
  /** Totals since start. */
  stats(): { processed: number; dlq: number; restored: number };
  /** Resolves once the host has stopped (by {@link Service.stop} or a signal). */
  readonly stopped: Promise<void>;
}

interface Entry {
  partition: number;
  task: Task | null;
  inputs: Set<string>;
  chain: Promise<void>;
  ready: Promise<void> | null;
  /** Per store, the changelog offset after the last record known to be in the in-memory store. */
  positions: Record<string, number>;
}

interface Standby {
  stores: Map<string, MemoryStore>;
  positions: Record<string, number>;
  applied: Record<string, number>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Creates the host of `topology`; call `start()` to join the group. */
export function createProcessorHost(
  deps: HostDeps,
  topology: Topology,
  opts: HostOptions = {},
): ProcessorHost {
  const { broker } = deps;
  const app = topology.app;
  const clock = deps.clock ?? { now: () => Date.now() };
  const log = deps.log.child("host", { app });
  const metrics = hostMetrics(app, deps.metrics);
  const entries = new Map<number, Entry>();
  const standby = new Map<number, Standby>();
  /** Partition counts of the outputs, read at start (broadcasts write one copy per partition). */
  const outputPartitions = new Map<string, number>();
  let producer: Producer | null = null;
  let consumer: Consumer | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  let started = false;
  let stopping: Promise<void> | null = null;
  const totals = { processed: 0, dlq: 0, restored: 0 };
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const onSignal = () => {
    log.info("signal received; stopping gracefully");
    void host.stop();
  };

  const exclusive = (e: Entry, fn: () => Promise<void>): Promise<void> => {
    const r = e.chain.then(fn);
    e.chain = r.catch(() => {});
    return r;
  };

  async function ensureTopics(): Promise<number> {
    const admin = broker.admin();
    const specs: TopicSpec[] = [];
    const undeclared: string[] = [];
    const tables = (topology.tables ?? []).map((t) => t.topic);
    for (const name of new Set([...topology.inputs, ...topology.outputs, ...tables, DLQ_TOPIC.name])) {
      const def = topicDef(name);
      if (def) specs.push({ name, partitions: def.partitions, compacted: def.compacted });
      else undeclared.push(name);
    }
    await admin.createTopics(specs);
    for (const name of undeclared) {
      try {
        await admin.describeTopic(name);
      } catch (err) {
        throw new LzError(
          "UNKNOWN_TOPIC",
          `topology ${app} uses topic ${name}, which is not declared in schemas/mod.ts and does not exist on ` +
            `${broker.address}; declare it in schemas/ or create it (lzsync topics create ${name})`,
          { cause: err },
        );
      }
    }
    for (const t of topology.outputs) outputPartitions.set(t, (await admin.describeTopic(t)).partitions);
    const counts = await Promise.all(
      topology.inputs.map(async (t) => (await admin.describeTopic(t)).partitions),
    );
    const n = Math.max(...counts);
    if (counts.some((c) => c !== n)) {
      throw new LzError(
        "NOT_COPARTITIONED",
        `inputs of ${app} must have the same partition count: ${
          topology.inputs.map((t, i) => `${t}=${counts[i]}`).join(", ")
        }`,
      );
    }
    const changelogs = topology.stores.map((s) => changelogTopic(app, s));
    await admin.createTopics(changelogs.map((name) => ({ name, partitions: n, compacted: true })));
    for (const name of changelogs) {
      const d = await admin.describeTopic(name);
      if (d.partitions < n) {
        throw new LzError(
          "CHANGELOG_PARTITIONS",
          `changelog ${name} has ${d.partitions} partitions but the inputs have ${n}; drop the state with ` +
            `lzsync replay --group ${app} --to earliest`,
        );
      }
    }
    return n;
  }

  function newTask(partition: number, stores?: Map<string, MemoryStore>, tables?: Tables): Task {
    return new Task({
      tables,
      topology,
      partition,
      clock,
      log: deps.log,
      retry: { retries: opts.retries ?? 3, backoffMs: opts.backoffMs ?? 50 },
      stores,
      onDlq: (topic) => metrics.dlq(topic),
      partitionsOf: (topic) => outputPartitions.get(topic) ?? 1,
    });
  }

  /** Restores (or catches up the standby copies of) the given new entries, then inits their processors. */
  async function restore(list: Entry[]): Promise<void> {
    const targets = list.map((e) => {
      const sb = standby.get(e.partition);
      standby.delete(e.partition);
      const stores = sb?.stores ??
        new Map(topology.stores.map((s) => [s, new MemoryStore(s, topology.codecs?.[s])]));
      return { partition: e.partition, stores, from: sb?.positions, applied: sb?.applied ?? {} };
    });
    const t0 = performance.now();
    const results = await restoreStores(broker, app, targets, log);
    const tables = topology.tables?.length ? await readTables(broker, topology, log) : undefined;
    let records = 0;
    for (const [i, e] of list.entries()) {
      const t = targets[i];
      const res = results.get(e.partition)!;
      const applied = { ...t.applied };
      for (const tp in res.applied) if (!(applied[tp] >= res.applied[tp])) applied[tp] = res.applied[tp];
      const task = newTask(e.partition, t.stores, tables);
      task.setRestored(applied);
      await task.init();
      e.positions = res.positions;
      e.task = task;
      records += res.records;
    }
    totals.restored += records;
    log.info("tasks restored", {
      partitions: list.map((e) => e.partition),
      records,
      ms: Math.round(performance.now() - t0),
    });
  }

  function ready(e: Entry): Promise<void> {
    if (!e.ready) {
      e.ready = restore([e]);
      e.ready.catch(() => (e.ready = null));
    }
    return e.ready;
  }

  /**
   * Sends `recs` to `topic`. Records the broker can never accept ({@link RECORD_TOO_LARGE}: larger than the
   * topic's max.message.bytes) go to the DLQ with the reason and their key and headers (not their bytes,
   * which do not fit either), and the others are sent: one oversized record never wedges the partition.
   */
  async function sendOrDlq(e: Entry, topic: string, recs: ProduceRecord[]): Promise<RecordMetadata[]> {
    try {
      return await producer!.send(topic, recs);
    } catch (err) {
      const indices = err instanceof LzError && err.code === RECORD_TOO_LARGE
        ? err.detail?.indices
        : undefined;
      if (!Array.isArray(indices) || indices.length === 0) throw err;
      const bad = new Set(indices as number[]);
      const failedAt = new Date(clock.now()).toISOString();
      const dead: ProduceRecord[] = recs.filter((_, i) => bad.has(i)).map((r) => {
        log.error("output record too large for the broker; sent to the DLQ", {
          partition: e.partition,
          topic,
          key: r.key,
          bytes: r.value?.byteLength ?? 0,
          error: (err as Error).message,
        });
        metrics.dlq(topic);
        totals.dlq++;
        return {
          key: `${topic}/${r.key ?? ""}`,
          value: encode(DLQ_TOPIC.name, {
            error: `a ${r.value?.byteLength ?? 0}-byte record of ${app} (task ${e.partition}) for ${topic} ` +
              `(key ${JSON.stringify(r.key)}) was not written: ${(err as Error).message}`,
            error_code: RECORD_TOO_LARGE,
            stage: app,
            attempts: 1,
            source: { topic, partition: -1, offset: -1 },
            original: { key: r.key, value_base64: null, headers: { ...r.headers } },
            failed_at: failedAt,
          }),
        };
      });
      await producer!.send(DLQ_TOPIC.name, dead);
      const rest = recs.filter((_, i) => !bad.has(i));
      return rest.length ? await sendOrDlq(e, topic, rest) : [];
    }
  }

  async function writeCheckpoint(e: Entry, cp: Checkpoint & { stage?: number }): Promise<void> {
    if (!producer || !consumer) throw new LzError("NOT_RUNNING", `host ${app} is not running`);
    cp.stage ??= 0;
    if (cp.stage === 0) {
      for (const s of topology.sinks ?? []) await s.flush();
      cp.stage = 1;
    }
    if (cp.stage === 1) {
      const byTopic = new Map<string, ProduceRecord[]>();
      for (const o of cp.outputs) {
        let l = byTopic.get(o.topic);
        if (!l) byTopic.set(o.topic, l = []);
        l.push({ key: o.key, value: o.value, headers: o.headers, partition: o.partition });
      }
      await Promise.all([...byTopic].map(([t, recs]) => sendOrDlq(e, t, recs)));
      cp.stage = 2;
    }
    if (cp.stage === 2) {
      const topics = [...cp.changelog.keys()];
      const sent = await Promise.all(topics.map((t) => sendOrDlq(e, t, cp.changelog.get(t)!)));
      for (let i = 0; i < topics.length; i++) {
        // the store's restore position: past the highest offset written (metadata of one partition)
        let high = -1;
        for (const m of sent[i]) if (m.offset > high) high = m.offset;
        if (high < 0) continue;
        const store = topics[i].slice(app.length + 1, -"-changelog".length);
        if (!(e.positions[store] > high)) e.positions[store] = high + 1;
      }
      cp.stage = 3;
    }
    if (opts.beforeCommit) await opts.beforeCommit(e.partition);
    crashPoint("host:before-commit");
    if (cp.commits.length > 0) await consumer.commit(cp.commits);
  }

  async function checkpoint(e: Entry): Promise<void> {
    const task = e.task;
    if (!task || !task.hasWork()) return;
    const cp: Checkpoint & { stage?: number } = task.drain();
    for (let attempt = 1;; attempt++) {
      try {
        await writeCheckpoint(e, cp);
        opts.onCheckpoint?.({ partition: e.partition, commits: cp.commits });
        return;
      } catch (err) {
        const wait = Math.min(5000, (opts.checkpointBackoffMs ?? 100) * 2 ** Math.min(attempt, 6));
        // Produces are retried until the broker is back (the effects exist only in memory). A commit that
        // keeps failing (this member was fenced out of the group) is given up: the changelog's applied
        // offsets already protect the next owner from counting twice; the error lets the consumer rejoin.
        if ((stopping && attempt >= 3) || (cp.stage === 3 && attempt >= 5)) throw err;
        log.error("checkpoint failed; retrying", {
          partition: e.partition,
          attempt,
          retry_in_ms: wait,
          broker: broker.address,
          error: describeError(err),
        });
        await sleep(wait);
      }
    }
  }

  const handlers: ConsumerHandlers = {
    async eachBatch(batch) {
      const e = entries.get(batch.partition);
      if (!e) {
        throw new LzError("NOT_ASSIGNED", `got a batch of ${batch.topic}/${batch.partition}, not assigned`);
      }
      await ready(e);
      await exclusive(e, async () => {
        const t0 = performance.now();
        const task = e.task!;
        const before = task.processed + task.dlqCount;
        const r = task.processBatch(batch.topic, batch.partition, batch.records);
        if (r) await r;
        await checkpoint(e);
        const n = batch.records.length;
        metrics.processed(batch.topic, n);
        metrics.batchSeconds((performance.now() - t0) / 1000);
        totals.processed += task.processed + task.dlqCount - before;
        const last = batch.records[n - 1];
        const lag = Math.max(0, batch.highWatermark - last.offset - 1);
        metrics.lag(
          batch.topic,
          batch.partition,
          lag,
          lag > 0 ? Math.max(0, clock.now() - last.timestamp) / 1000 : 0,
        );
      });
    },
    async onAssigned(tps: TopicPartition[]) {
      const fresh: Entry[] = [];
      for (const tp of tps) {
        let e = entries.get(tp.partition);
        if (!e) {
          e = {
            partition: tp.partition,
            task: null,
            inputs: new Set(),
            chain: Promise.resolve(),
            ready: null,
            positions: {},
          };
          entries.set(tp.partition, e);
          fresh.push(e);
        }
        e.inputs.add(`${tp.topic}:${tp.partition}`);
      }
      for (const e of entries.values()) {
        if (e.inputs.size < topology.inputs.length) {
          // Eager rebalancing hands out the whole assignment at once: the missing inputs went to another member.
          log.error("inputs are not co-partitioned across members: this task sees only some of its inputs", {
            partition: e.partition,
            assigned: [...e.inputs],
            inputs: topology.inputs,
            hint: "the broker's assignor must give partition p of every input to the same member",
          });
        }
      }
      if (fresh.length === 0) return;
      const all = restore(fresh);
      for (const e of fresh) {
        e.ready = all;
        all.catch(() => (e.ready = null));
      }
      try {
        await all;
      } catch (err) {
        log.error("restore failed; it is retried with the first batch", {
          broker: broker.address,
          error: describeError(err),
        });
      }
    },
    async onRevoked(tps: TopicPartition[]) {
      const touched = new Set<number>();
      for (const tp of tps) {
        const e = entries.get(tp.partition);
        if (!e) continue;
        e.inputs.delete(`${tp.topic}:${tp.partition}`);
        touched.add(tp.partition);
      }
      await Promise.all([...touched].map(async (p) => {
        const e = entries.get(p)!;
        let clean = false;
        await exclusive(e, async () => {
          try {
            await checkpoint(e);
            clean = true;
          } catch (err) {
            log.error("checkpoint on revoke failed; uncommitted records will be processed again", {
              partition: p,
              error: describeError(err),
            });
          }
          if (e.inputs.size > 0) return;
          entries.delete(p);
          if (e.task) {
            totals.dlq += e.task.dlqCount;
            await e.task.close();
            if (clean && !stopping) {
              standby.set(p, {
                stores: e.task.stores,
                positions: e.positions,
                applied: { ...e.task.applied },
              });
            }
          }
        });
      }));
    },
  };

  async function tick(): Promise<void> {
    const now = clock.now();
    for (const e of entries.values()) {
      if (!e.task || e.task.nextPunctuation() > now) continue;
      await exclusive(e, async () => {
        if (!e.task) return;
        await e.task.punctuate(now);
        await checkpoint(e);
      });
    }
  }

  const host: ProcessorHost = {
    name: `processor:${app}`,
    stopped,
    async start() {
      if (started) return;
      started = true;
      const partitions = await ensureTopics();
      log.info("starting", {
        inputs: topology.inputs,
        stores: topology.stores,
        partitions,
        broker: broker.address,
      });
      producer = await broker.producer();
      consumer = broker.consumer({
        groupId: app,
        topics: topology.inputs,
        fromBeginning: true,
        maxBatchSize: opts.maxBatchSize,
        clientId: opts.clientId ?? app,
      });
      await consumer.run(handlers);
      timer = setInterval(() => {
        tick().catch((err) => log.error("punctuation tick failed", { error: describeError(err) }));
      }, opts.tickMs ?? 100);
      if (opts.stopOnSignals) {
        Deno.addSignalListener("SIGINT", onSignal);
        Deno.addSignalListener("SIGTERM", onSignal);
      }
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        if (opts.stopOnSignals && started) {
          Deno.removeSignalListener("SIGINT", onSignal);
          Deno.removeSignalListener("SIGTERM", onSignal);
        }
        try {
          await consumer?.stop();
        } finally {
          for (const e of entries.values()) {
            await e.chain;
            await e.task?.close();
          }
          entries.clear();
          standby.clear();
          await producer?.close();
          log.info("stopped", totals);
          resolveStopped();
        }
      })();
      return stopping;
    },
    digest() {
      const rows: DigestRow[] = [];
      for (const e of entries.values()) {
        for (const [store, s] of e.task?.stores ?? []) {
          for (const [key, value] of s.entries()) rows.push({ store, partition: e.partition, key, value });
        }
      }
      return stateDigest(rows);
    },
    tick,
    assigned: () => [...entries.keys()].sort((a, b) => a - b),
    stats() {
      let dlq = totals.dlq;
      for (const e of entries.values()) dlq += e.task?.dlqCount ?? 0;
      return { processed: totals.processed, dlq, restored: totals.restored };
    },
  };
  return host;
}
