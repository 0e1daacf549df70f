/**
 * What the parts of a processor host (`host.ts`) share: its dependencies and options, the tasks it runs (one
 * {@link Entry} per assigned partition number, serialized by {@link exclusive}), the standby copies it keeps
 * across a rebalance, and its producer and consumer once started.
 *
 * @module
 */
import type { Broker, Consumer, GroupOffset, Producer } from "../broker/types.ts";
import type { Logger } from "../log.ts";
import type { Registry } from "prom-client";
import type { Clock, Topology } from "./types.ts";
import type { Task } from "./task.ts";
import type { MemoryStore } from "./store.ts";
import { type HostMetrics, hostMetrics } from "./host_metrics.ts";

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

/** One assigned partition number: its task (once restored) and the inputs assigned for it. */
export interface Entry {
  partition: number;
  task: Task | null;
  /** Assigned input partitions, as `topic:partition`. */
  inputs: Set<string>;
  /** The tail of the work on this task; see {@link exclusive}. */
  chain: Promise<void>;
  /** The restore in flight or done; null before it starts and after it failed (retried by the next batch). */
  ready: Promise<void> | null;
  /** Per store, the changelog offset after the last record known to be in the in-memory store. */
  positions: Record<string, number>;
  /**
   * The input commit of the last checkpoint while it is still in flight (see `host_checkpoint.ts`): resolves
   * to its error when it failed for good, else to null; null when none is pending.
   */
  commit: Promise<unknown> | null;
}

/** The stores of a task revoked cleanly, kept in case the partition comes back (restore then catches up). */
export interface Standby {
  stores: Map<string, MemoryStore>;
  positions: Record<string, number>;
  applied: Record<string, number>;
}

/** Totals since start ({@link HostState.totals}). */
export type HostTotals = {
  processed: number;
  /** DLQ records of closed tasks and of oversized outputs (live tasks add their own count). */
  dlq: number;
  restored: number;
};

/** The mutable state of one host, shared by its consume loop, restore and checkpoint steps. */
export interface HostState {
  readonly broker: Broker;
  readonly topology: Topology;
  readonly app: string;
  readonly clock: Clock;
  /** The host's logger (`host`, with the app). */
  readonly log: Logger;
  /** The logger tasks derive theirs from. */
  readonly baseLog: Logger;
  readonly metrics: HostMetrics;
  readonly opts: HostOptions;
  readonly entries: Map<number, Entry>;
  readonly standby: Map<number, Standby>;
  /** Partition counts of the outputs, read at start (broadcasts write one copy per partition). */
  readonly outputPartitions: Map<string, number>;
  readonly totals: HostTotals;
  producer: Producer | null;
  consumer: Consumer | null;
  /** Set once `stop()` was called. */
  stopping: Promise<void> | null;
}

/** A new entry for `partition`, with no task yet. */
export function newEntry(partition: number): Entry {
  return {
    partition,
    task: null,
    inputs: new Set(),
    chain: Promise.resolve(),
    ready: null,
    positions: {},
    commit: null,
  };
}

/** Runs `fn` after everything queued on `e` (batches, punctuations, revoke): one at a time per task. */
export function exclusive(e: Entry, fn: () => Promise<void>): Promise<void> {
  const r = e.chain.then(fn);
  e.chain = r.catch(() => {});
  return r;
}

/** The state of a new, not yet started host of `topology`: no entries, no producer or consumer. */
export function createHostState(deps: HostDeps, topology: Topology, opts: HostOptions = {}): HostState {
  const app = topology.app;
  return {
    broker: deps.broker,
    topology,
    app,
    clock: deps.clock ?? { now: () => Date.now() },
    log: deps.log.child("host", { app }),
    baseLog: deps.log,
    metrics: hostMetrics(app, deps.metrics),
    opts,
    entries: new Map(),
    standby: new Map(),
    outputPartitions: new Map(),
    totals: { processed: 0, dlq: 0, restored: 0 },
    producer: null,
    consumer: null,
    stopping: null,
  };
}
