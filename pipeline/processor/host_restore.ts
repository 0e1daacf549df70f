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
  for (const [i, e] of list.entries()) {
    const t = targets[i];
    const res = results.get(e.partition)!;
    const applied = { ...t.applied };
    for (const tp in res.applied) if (!(applied[tp] >= res.applied[tp])) applied[tp] = res.applied[tp];
    const task = newTask(state, e.partition, t.stores, tables);
    task.setRestored(applied);
    await task.init();
    e.positions = res.positions;
    e.task = task;
    records += res.records;
  }
  state.totals.restored += records;
  log.info("tasks restored", {
    partitions: list.map((e) => e.partition),
    records,
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
