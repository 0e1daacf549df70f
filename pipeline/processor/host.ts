/**
 * The processor host: runs a {@link Topology} as a member of the consumer group `topology.app`, one
 * {@link Task} per assigned partition number. On assignment a task's stores are restored from their
 * changelogs (and the topology's tables read, see `tables.ts`) before any record is processed; after each
 * batch (and on revoke and stop) it checkpoints in this order: flush sinks → produce forwarded outputs and
 * DLQ records → produce dirty changelog records (stamped with the applied source offsets) → commit input
 * offsets, each step awaiting the broker's acks (a batch's commit completes while the next batch is fetched;
 * see `host_checkpoint.ts`).
 *
 * A crash anywhere loses nothing (uncommitted records are read again) and double-counts nothing (a restore
 * finds the applied source offsets in the changelog and skips records at or below them). Outputs may repeat
 * after a crash: at-least-once, with downstream effects idempotent by key.
 */
import type { Service } from "../service.ts";
import { describeError } from "../errors.ts";
import type { Topology } from "./types.ts";
import { type DigestRow, stateDigest } from "../digest.ts";
import { createHostState, type HostDeps, type HostOptions } from "./host_state.ts";
import { ensureTopics } from "./host_topics.ts";
import { consumerHandlers, punctuateDue } from "./host_consume.ts";

export type { HostDeps, HostOptions };

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

/**
 * Creates the host of `topology`; call `start()` to join the group. The work is done by the consume loop
 * (`host_consume.ts`), restore (`host_restore.ts`), checkpoint (`host_checkpoint.ts`) and DLQ routing
 * (`host_dlq.ts`) over the state of `host_state.ts`; this is the lifecycle: start, stop, digest, stats.
 */
export function createProcessorHost(
  deps: HostDeps,
  topology: Topology,
  opts: HostOptions = {},
): ProcessorHost {
  const { broker } = deps;
  const app = topology.app;
  const state = createHostState(deps, topology, opts);
  const { log, entries, totals } = state;
  let timer: ReturnType<typeof setInterval> | undefined;
  let started = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const onSignal = () => {
    log.info("signal received; stopping gracefully");
    void host.stop();
  };
  const tick = () => punctuateDue(state);

  const host: ProcessorHost = {
    name: `processor:${app}`,
    stopped,
    async start() {
      if (started) return;
      started = true;
      const topics = await ensureTopics(broker, topology);
      for (const [t, n] of topics.outputPartitions) state.outputPartitions.set(t, n);
      log.info("starting", {
        inputs: topology.inputs,
        stores: topology.stores,
        partitions: topics.partitions,
        broker: broker.address,
      });
      state.producer = await broker.producer();
      state.consumer = broker.consumer({
        groupId: app,
        topics: topology.inputs,
        fromBeginning: true,
        maxBatchSize: opts.maxBatchSize,
        clientId: opts.clientId ?? app,
      });
      await state.consumer.run(consumerHandlers(state));
      timer = setInterval(() => {
        tick().catch((err) => log.error("punctuation tick failed", { error: describeError(err) }));
      }, opts.tickMs ?? 100);
      if (opts.stopOnSignals) {
        Deno.addSignalListener("SIGINT", onSignal);
        Deno.addSignalListener("SIGTERM", onSignal);
      }
    },
    stop() {
      state.stopping ??= (async () => {
        clearInterval(timer);
        if (opts.stopOnSignals && started) {
          Deno.removeSignalListener("SIGINT", onSignal);
          Deno.removeSignalListener("SIGTERM", onSignal);
        }
        try {
          await state.consumer?.stop();
        } finally {
          for (const e of entries.values()) {
            await e.chain;
            await e.commit;
            await e.task?.close();
          }
          entries.clear();
          state.standby.clear();
          await state.producer?.close();
          log.info("stopped", totals);
          resolveStopped();
        }
      })();
      return state.stopping;
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
      for (const e of entries.values()) dlq += (e.task?.dlqCount ?? 0) + (e.task?.dlqForwarded ?? 0);
      return { processed: totals.processed, dlq, restored: totals.restored };
    },
  };
  return host;
}
