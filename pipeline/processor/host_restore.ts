/**
 * Bringing a processor host's tasks up: a new task's stores are restored from their changelogs (or a standby
 * copy kept across a rebalance is caught up), the topology's tables are read, and the processor is
 * initialized — all before the task sees a record.
 *
 * @module
 */
import { Task } from "./task.ts";
import { MemoryStore } from "./store.ts";
import { restoreStores } from "./restore.ts";
import { readTables, type Tables } from "./tables.ts";
import type { Entry, HostState } from "./host_state.ts";
import type { ConsumedRecord } from "../broker/types.ts";
import { readTopicToEnd } from "../broker/read_topic.ts";
import { LzError } from "../errors.ts";

/** A task of the host's topology for `partition`, adopting `stores` (a restored or standby copy) if given. */
export function newTask(
  state: HostState,
  partition: number,
  stores?: Map<string, MemoryStore>,
  tables?: Tables,
): Task {
  const { opts, metrics } = state;
  return new Task({
    tables,
    topology: state.topology,
    partition,
    clock: state.clock,
    log: state.baseLog,
    retry: { retries: opts.retries ?? 3, backoffMs: opts.backoffMs ?? 50 },
    stores,
    onDlq: (topic) => metrics.dlq(topic),
    partitionsOf: (topic) => state.outputPartitions.get(topic) ?? 1,
  });
}

/**
 * Restores (or catches up the standby copies of) the given new entries, then inits their processors. The
 * applied source offsets of a task are the higher of the standby copy's and the changelog's.
 */
export async function restoreEntries(state: HostState, list: Entry[]): Promise<void> {
  const { topology, standby, broker, app, log } = state;
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
  const tasks = new Map<number, Task>();
  for (const [i, e] of list.entries()) {
    const t = targets[i];
    const res = results.get(e.partition)!;
    const applied = { ...t.applied };
    for (const tp in res.applied) if (!(applied[tp] >= res.applied[tp])) applied[tp] = res.applied[tp];
    const task = newTask(state, e.partition, t.stores, tables);
    task.setRestored(applied);
    await task.init();
    tasks.set(e.partition, task);
    records += res.records;
  }
  const caughtUp = await catchUpBootstrap(state, tasks);
  for (const e of list) {
    e.positions = results.get(e.partition)!.positions;
    e.task = tasks.get(e.partition)!;
  }
  state.totals.restored += records;
  log.info("tasks restored", {
    partitions: list.map((e) => e.partition),
    records,
    bootstrap_records: caughtUp,
    ms: Math.round(performance.now() - t0),
  });
}

/** The restore of `e`, started when none is in flight or done (a failed one is tried again). */
export function ready(state: HostState, e: Entry): Promise<void> {
  if (!e.ready) {
    e.ready = restoreEntries(state, [e]);
    e.ready.catch(() => (e.ready = null));
  }
  return e.ready;
}

/**
 * Processes, on each new task, the records of its partition of every bootstrap input (`Topology.bootstrap`)
 * from the group's committed offset (the earliest when none: the host consumes from the beginning) to the end
 * seen now, before the task is handed any batch. Returns how many records were processed. A topic read to its
 * end is small by contract (configuration); a partition with nothing past its committed offset (or past what
 * the restored stores applied) costs no read.
 */
export async function catchUpBootstrap(state: HostState, tasks: Map<number, Task>): Promise<number> {
  const { topology, broker, app } = state;
  let count = 0;
  for (const topic of topology.bootstrap ?? []) {
    if (!topology.inputs.includes(topic)) {
      throw new LzError("CONFIG", `topology ${app}: bootstrap topic ${topic} is not one of its inputs`);
    }
    const offsets = await broker.admin().topicOffsets(topic);
    const committed = new Map<number, number>();
    for (const c of await broker.admin().fetchCommitted(app, [topic])) {
      if (c.topic === topic) committed.set(c.partition, c.offset);
    }
    const from = new Map<number, number>();
    for (const o of offsets) {
      const task = tasks.get(o.partition);
      if (!task) continue;
      const start = Math.max(o.low, committed.get(o.partition) ?? o.low);
      const applied = task.applied[`${topic}:${o.partition}`] ?? -1;
      if (Math.max(start, applied + 1) < o.high) from.set(o.partition, start);
    }
    if (from.size === 0) continue;
    const pending = new Map<number, ConsumedRecord[]>();
    await readTopicToEnd(broker, topic, (r) => {
      const start = from.get(r.partition);
      if (start === undefined || r.offset < start) return;
      let l = pending.get(r.partition);
      if (!l) pending.set(r.partition, l = []);
      l.push(r);
    });
    for (const [p, recs] of pending) {
      const task = tasks.get(p);
      if (!task) throw new LzError("NOT_ASSIGNED", `bootstrap records of ${topic}/${p} for no task`);
      const r = task.processBatch(topic, p, recs);
      if (r) await r;
      count += recs.length;
    }
  }
  return count;
}
