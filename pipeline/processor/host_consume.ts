/**
 * The consume loop of a processor host: what it does when the group hands it a batch, assigns or revokes
 * partitions, and when punctuations are due. Work on one task is serialized ({@link exclusive}); each unit of
 * work ends with a checkpoint.
 *
 * @module
 */
import type { Batch, ConsumerHandlers, TopicPartition } from "../broker/types.ts";
import { describeError, LzError } from "../errors.ts";
import { type Entry, exclusive, type HostState, newEntry } from "./host_state.ts";
import { ready, restoreEntries } from "./host_restore.ts";
import { checkpoint } from "./host_checkpoint.ts";

/**
 * Processes one batch on its task (waiting for the task's restore), checkpoints, and updates the processed,
 * batch-time and lag metrics.
 */
export async function processBatch(state: HostState, batch: Batch): Promise<void> {
  const { entries, metrics, totals, clock } = state;
  const e = entries.get(batch.partition);
  if (!e) {
    throw new LzError("NOT_ASSIGNED", `got a batch of ${batch.topic}/${batch.partition}, not assigned`);
  }
  await ready(state, e);
  await exclusive(e, async () => {
    const t0 = performance.now();
    const task = e.task!;
    const before = task.processed + task.dlqCount;
    const r = task.processBatch(batch.topic, batch.partition, batch.records);
    if (r) await r;
    await checkpoint(state, e, true); // the commit stays in flight while the next batch is fetched
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
}

/**
 * Adds the assigned input partitions to their entries and restores the new entries together. A task that
 * sees only some of its inputs is logged (the inputs are not co-partitioned across members); a failed
 * restore is logged and tried again by the first batch.
 */
export async function assign(state: HostState, tps: TopicPartition[]): Promise<void> {
  const { entries, topology, log, broker } = state;
  const fresh: Entry[] = [];
  for (const tp of tps) {
    let e = entries.get(tp.partition);
    if (!e) {
      e = newEntry(tp.partition);
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
  const all = restoreEntries(state, fresh);
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
}

/**
 * Removes the revoked input partitions; each touched task checkpoints, and a task left with no input is
 * closed — its stores kept as a standby copy when the checkpoint was clean and the host is not stopping.
 */
export async function revoke(state: HostState, tps: TopicPartition[]): Promise<void> {
  const { entries, standby, log, totals } = state;
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
        await checkpoint(state, e);
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
        totals.dlq += e.task.dlqCount + e.task.dlqForwarded;
        await e.task.close();
        if (clean && !state.stopping) {
          standby.set(p, {
            stores: e.task.stores,
            positions: e.positions,
            applied: { ...e.task.applied },
          });
        }
      }
    });
  }));
}

/** The consumer handlers of a host: batches, assignments and revocations. */
export function consumerHandlers(state: HostState): ConsumerHandlers {
  return {
    eachBatch: (batch) => processBatch(state, batch),
    onAssigned: (tps) => assign(state, tps),
    onRevoked: (tps) => revoke(state, tps),
  };
}

/** Fires the due punctuations of every task (on the host's clock) and checkpoints their effects. */
export async function punctuateDue(state: HostState): Promise<void> {
  const now = state.clock.now();
  for (const e of state.entries.values()) {
    if (!e.task || e.task.nextPunctuation() > now) continue;
    await exclusive(e, async () => {
      if (!e.task) return;
      await e.task.punctuate(now);
      await checkpoint(state, e);
    });
  }
}
