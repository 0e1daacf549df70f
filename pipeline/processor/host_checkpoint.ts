/**
 * The checkpoint of a processor host's task, in this order, each step awaiting the broker's acks: flush the
 * sinks → produce the forwarded outputs and DLQ records (then tell the sinks: `Sink.produced`) → produce the
 * dirty changelog records (stamped with the applied source offsets) → commit the input offsets. A failed
 * checkpoint is retried from the step that failed.
 *
 * After a batch, the commit is not waited for ({@link checkpoint} with `deferCommit`): once the changelog is
 * acknowledged the batch is done and the consumer fetches the next one while the commit is in flight, so a
 * record that arrives during a checkpoint waits for two broker round trips of it instead of three. The order
 * of every record's effects is unchanged — outputs acknowledged, then changelog acknowledged, then the commit
 * — and a task's commits go out one at a time in checkpoint order: the next checkpoint produces its outputs
 * and changelog meanwhile, but sends its own commit only after the previous one is done, and a revoke or a
 * stop waits for it. A commit that fails for good is thrown by the task's next checkpoint.
 *
 * @module
 */
import type { ProduceRecord } from "../broker/types.ts";
import { describeError, LzError } from "../errors.ts";
import { crashPoint } from "../crash_point.ts";
import type { Checkpoint } from "./task.ts";
import type { Entry, HostState } from "./host_state.ts";
import { sendOrDlq } from "./host_dlq.ts";

/** A checkpoint with the step it reached: 0 flush sinks, 1 outputs, 2 changelog, 3 commit. */
export type StagedCheckpoint = Checkpoint & { stage?: number };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Writes `cp` from the step it reached (a retry does not produce twice what the broker acknowledged), and
 * advances the task's store positions past the changelog records written. `effectsOnly`: stops before the
 * commit (at stage 3).
 */
export async function writeCheckpoint(
  state: HostState,
  e: Entry,
  cp: StagedCheckpoint,
  effectsOnly = false,
): Promise<void> {
  const { producer, consumer, topology, app, opts } = state;
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
    await Promise.all([...byTopic].map(([t, recs]) => sendOrDlq(state, e, t, recs)));
    cp.stage = 2;
    for (const s of topology.sinks ?? []) await s.produced?.();
  }
  if (cp.stage === 2) {
    const topics = [...cp.changelog.keys()];
    const sent = await Promise.all(topics.map((t) => sendOrDlq(state, e, t, cp.changelog.get(t)!)));
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
  if (effectsOnly) return;
  if (opts.beforeCommit) await opts.beforeCommit(e.partition);
  crashPoint("host:before-commit");
  if (cp.commits.length > 0) await consumer.commit(cp.commits);
}

/**
 * Drains the task of `e` (if it has work) and writes the checkpoint, retrying with a doubling backoff up to
 * 5 s. Produces are retried until the broker is back (the effects exist only in memory); a commit that keeps
 * failing, or any step while stopping, is given up and thrown. The commit waits for the task's previous one
 * (and throws its error if it failed); with `deferCommit` it is left in flight ({@link Entry.commit}) and
 * this resolves once the changelog is acknowledged. Without work, this only waits for a commit in flight.
 */
export async function checkpoint(state: HostState, e: Entry, deferCommit = false): Promise<void> {
  const task = e.task;
  if (!task || !task.hasWork()) return await settleCommit(e);
  const cp: StagedCheckpoint = task.drain();
  await writeWithRetries(state, e, cp, true);
  await settleCommit(e);
  const commit = writeWithRetries(state, e, cp, false).then(() => {
    state.opts.onCheckpoint?.({ partition: e.partition, commits: cp.commits });
  });
  if (!deferCommit) return await commit;
  e.commit = commit.then(() => null, (err) => {
    state.log.error("input commit failed; the task's next checkpoint reports it", {
      partition: e.partition,
      error: describeError(err),
    });
    return err ?? new Error("input commit failed");
  });
}

/** Waits for the commit of `e` in flight, if any, and throws its error when it failed. */
async function settleCommit(e: Entry): Promise<void> {
  if (!e.commit) return;
  const err = await e.commit;
  e.commit = null;
  if (err) throw err;
}

async function writeWithRetries(
  state: HostState,
  e: Entry,
  cp: StagedCheckpoint,
  effectsOnly: boolean,
): Promise<void> {
  const { opts, log, broker } = state;
  for (let attempt = 1;; attempt++) {
    try {
      return await writeCheckpoint(state, e, cp, effectsOnly);
    } catch (err) {
      const wait = Math.min(5000, (opts.checkpointBackoffMs ?? 100) * 2 ** Math.min(attempt, 6));
      // Produces are retried until the broker is back (the effects exist only in memory). A commit that
      // keeps failing (this member was fenced out of the group) is given up: the changelog's applied
      // offsets already protect the next owner from counting twice; the error lets the consumer rejoin.
      if ((state.stopping && attempt >= 3) || (cp.stage === 3 && attempt >= 5)) throw err;
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
