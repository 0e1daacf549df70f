/**
 * A member of a Kafka consumer group through kafkajs: `eachBatch` with no auto-commit and no auto-resolve,
 * manual commits, pause/resume, and rebalance callbacks with eager semantics.
 *
 * kafkajs rebalances eagerly: on every rebalance each member gives up all its partitions and gets a new
 * set. Before each JoinGroup (hooked in kafka/internals.ts, after kafkajs has finished the batches in
 * flight) `onRevoked` gets everything this member owned — while it is still a member of the old
 * generation, so commits made there are accepted — and only then does the join go out; the group cannot
 * hand those partitions to anyone before this member has rejoined. After the join, `onAssigned` gets the
 * new set before any of its batches is delivered.
 *
 * `stop()` stops delivery, lets the batch in flight finish, calls `onRevoked` (commits still work), then
 * disconnects, which leaves the group.
 */
import type { Consumer as KafkaJsConsumer, EachBatchPayload } from "kafkajs";
import { describeError, LzError } from "../../errors.ts";
import {
  type Batch,
  type Consumer,
  type ConsumerHandlers,
  type ConsumerOptions,
  DEFAULT_MAX_BATCH,
  type GroupOffset,
  type TopicPartition,
} from "../types.ts";
import type { KafkaContext } from "./context.ts";
import { toLzError, withDeadline } from "./errors.ts";
import { capturingAssigner, hookBeforeJoin } from "./internals.ts";
import { toRecords } from "./records.ts";

const tpKey = (topic: string, partition: number) => `${partition}\u0000${topic}`;

/** Groups partitions by topic, in kafkajs's shape. */
function byTopic(tps: TopicPartition[]): { topic: string; partitions: number[] }[] {
  const m = new Map<string, number[]>();
  for (const tp of tps) m.set(tp.topic, [...(m.get(tp.topic) ?? []), tp.partition]);
  return [...m].map(([topic, partitions]) => ({ topic, partitions }));
}

type State = "new" | "starting" | "running" | "stopping" | "stopped";

/** A consumer-group member on Kafka. */
export class KafkaConsumer implements Consumer {
  readonly #ctx: KafkaContext;
  readonly #opts: ConsumerOptions;
  readonly #log;
  #client: KafkaJsConsumer | null = null;
  #unhook: (() => void) | null = null;
  #handlers: ConsumerHandlers | null = null;
  #state: State = "new";
  /** True between a join and a crash/stop: commits are only possible then. */
  #member = false;
  /** What the user was told it owns (onAssigned minus onRevoked). */
  #owned = new Map<string, TopicPartition>();
  #paused = new Map<string, TopicPartition>();
  /** onAssigned/onRevoked run one after another, never concurrently. */
  #callbacks: Promise<void> = Promise.resolve();
  /** Batches being handled now (one per partition at most; several partitions with concurrency). */
  #inFlight = new Set<Promise<void>>();
  #heartbeatMs = 3_000;
  #stopping: Promise<void> | null = null;
  #firstJoin: { resolve: () => void; reject: (e: unknown) => void; done: boolean } | null = null;

  constructor(ctx: KafkaContext, opts: ConsumerOptions) {
    this.#ctx = ctx;
    this.#opts = opts;
    this.#log = ctx.log.child("consumer", { groupId: opts.groupId });
  }

  async run(handlers: ConsumerHandlers): Promise<void> {
    if (this.#state !== "new") {
      throw new LzError(
        this.#state === "starting" || this.#state === "running" ? "ALREADY_RUNNING" : "STOPPED",
        `consumer of group ${this.#opts.groupId} is ${
          this.#state === "starting" ? "already running" : this.#state
        }`,
      );
    }
    this.#state = "starting";
    this.#handlers = handlers;
    this.#ctx.track(this);
    try {
      await this.#start();
    } catch (err) {
      await this.#shutdown().catch(() => {});
      this.#state = "stopped";
      this.#ctx.untrack(this);
      throw err;
    }
  }

  async #start(): Promise<void> {
    const { groupId, topics } = this.#opts;
    const existing = await this.#ctx.admin().topicNames();
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new LzError(
        "UNKNOWN_TOPIC",
        `group ${groupId} cannot consume ${
          missing.join(", ")
        }: no such topic on Kafka at ${this.#ctx.address}`,
        { detail: { topics: missing, groupId } },
      );
    }
    const session = this.#ctx.sessionTimeoutMs;
    this.#heartbeatMs = Math.max(100, Math.min(3_000, Math.floor(session / 3)));
    const client = this.#ctx.kafkaFor(this.#opts.clientId).consumer({
      groupId,
      partitionAssigners: [capturingAssigner((cluster) => {
        this.#unhook = hookBeforeJoin(cluster, () => this.#beforeJoin());
      })],
      sessionTimeout: session,
      heartbeatInterval: this.#heartbeatMs,
      rebalanceTimeout: 60_000,
      maxWaitTimeInMs: this.#ctx.maxWaitTimeMs,
      minBytes: 1,
      maxBytes: 16 << 20,
      maxBytesPerPartition: 4 << 20,
      allowAutoTopicCreation: false,
      retry: this.#ctx.retry,
    });
    this.#client = client;
    client.on(client.events.GROUP_JOIN, (e) => this.#onJoin(e.payload.memberAssignment));
    client.on(client.events.CRASH, (e) => this.#onCrash(e.payload.error, e.payload.restart));
    await this.#ctx.connect(`connect consumer of group ${groupId}`, () => client.connect(), async () => {});
    await client.subscribe({ topics, fromBeginning: this.#opts.fromBeginning ?? true });
    const joined = new Promise<void>((resolve, reject) => {
      this.#firstJoin = { resolve, reject, done: false };
    });
    await client.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#ctx.partitionsConsumedConcurrently,
      eachBatch: (p) => this.#eachBatch(p),
    });
    // kafkajs's run() also resolves when the first join crashed; wait for a real join (bounded).
    await withDeadline(
      joined,
      Math.max(this.#ctx.connectDeadlineMs, 30_000) + 60_000,
      () =>
        new LzError(
          "JOIN_TIMEOUT",
          `consumer of group ${groupId} did not join the group on ${this.#ctx.address}`,
          {
            retriable: true,
          },
        ),
    );
    if (this.#state === "starting") this.#state = "running";
  }

  /** kafkajs GROUP_JOIN (synchronous, before the first fetch of the new generation). */
  #onJoin(memberAssignment: Record<string, number[]>): void {
    if (this.#state === "stopping" || this.#state === "stopped") return;
    this.#member = true;
    const tps: TopicPartition[] = Object.entries(memberAssignment)
      .flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    // Normally empty here (revoked before the join); after a crash and restart it still holds the old set.
    const stale = [...this.#owned.values()];
    this.#owned = new Map(tps.map((tp) => [tpKey(tp.topic, tp.partition), tp]));
    const toPause = tps.filter((tp) => this.#paused.has(tpKey(tp.topic, tp.partition)));
    if (toPause.length > 0) this.#client?.pause(byTopic(toPause));
    this.#log.info("joined", { partitions: tps.map((tp) => `${tp.topic}:${tp.partition}`) });
    if (stale.length > 0) this.#chainCallback("onRevoked", stale);
    if (tps.length > 0) this.#chainCallback("onAssigned", tps);
    if (this.#firstJoin && !this.#firstJoin.done) {
      this.#firstJoin.done = true;
      this.#firstJoin.resolve();
    }
  }

  #onCrash(error: Error, restart: boolean): void {
    this.#member = false;
    const lz = toLzError(error, this.#ctx.address, `consume as group ${this.#opts.groupId}`);
    if (this.#firstJoin && !this.#firstJoin.done) {
      this.#firstJoin.done = true;
      this.#firstJoin.reject(lz);
      return;
    }
    if (this.#state === "stopping" || this.#state === "stopped") return;
    if (restart) {
      this.#log.warn("consumer failed; kafkajs restarts it", { error: lz.message });
    } else {
      this.#log.error("consumer stopped after a non-retriable error; its partitions are released", {
        error: describeError(error),
      });
      void this.#revokeAll();
    }
  }

  #chainCallback(name: "onAssigned" | "onRevoked", tps: TopicPartition[]): Promise<void> {
    const run = async () => {
      try {
        await this.#handlers?.[name]?.(tps);
      } catch (err) {
        this.#log.error(`${name} failed`, { error: describeError(err) });
      }
    };
    const p = this.#callbacks.then(run);
    this.#callbacks = p;
    return p;
  }

  /** Hands everything this member owns to onRevoked (after the batch in flight). */
  async #revokeAll(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
    const tps = [...this.#owned.values()];
    this.#owned.clear();
    if (tps.length > 0) await this.#chainCallback("onRevoked", tps);
    else await this.#callbacks;
  }

  /** Runs before every JoinGroup this member sends (see kafka/internals.ts). */
  async #beforeJoin(): Promise<void> {
    await this.#revokeAll();
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, isStale, heartbeat } = payload;
    if (this.#state === "stopping" || this.#state === "stopped") return;
    await this.#keepAlive(this.#callbacks, heartbeat); // onAssigned has finished (a restore can take a while)
    const key = tpKey(batch.topic, batch.partition);
    const deliverable = () =>
      (this.#state === "starting" || this.#state === "running") && this.#owned.has(key) &&
      !this.#paused.has(key) &&
      !isStale();
    if (!deliverable() || batch.messages.length === 0) return;
    const records = toRecords(batch);
    const max = Math.max(1, this.#opts.maxBatchSize ?? DEFAULT_MAX_BATCH);
    const highWatermark = Number(batch.highWatermark);
    for (let i = 0; i < records.length; i += max) {
      if (!deliverable()) return; // the rest is fetched again by whoever owns the partition next
      const slice = records.length <= max ? records : records.slice(i, i + max);
      const b: Batch = { topic: batch.topic, partition: batch.partition, records: slice, highWatermark };
      const p = this.#handlers!.eachBatch(b);
      this.#inFlight.add(p);
      try {
        await this.#keepAlive(p, heartbeat);
      } catch (err) {
        this.#log.warn("eachBatch failed; the batch will be delivered again", {
          topic: batch.topic,
          partition: batch.partition,
          offset: slice[0].offset,
          error: describeError(err),
        });
        throw err;
      } finally {
        this.#inFlight.delete(p);
      }
      resolveOffset(String(slice[slice.length - 1].offset));
    }
  }

  /**
   * Waits for `p`, heartbeating meanwhile: kafkajs only heartbeats between batches, so a slow handler or a
   * long restore in onAssigned would otherwise let the session expire and start a rebalance.
   */
  async #keepAlive(p: Promise<void>, heartbeat: () => Promise<void>): Promise<void> {
    let settled = false;
    const done = p.then(() => (settled = true), () => (settled = true));
    while (!settled) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([done, new Promise((r) => (timer = setTimeout(r, this.#heartbeatMs)))]);
      clearTimeout(timer);
      if (!settled) {
        // A failed heartbeat (e.g. a rebalance started) is kafkajs's to handle after this batch.
        await heartbeat().catch(() => {});
      }
    }
    await p;
  }

  async commit(offsets: GroupOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    if (!this.#client || !this.#member || this.#state === "stopped") {
      throw new LzError(
        "NOT_GROUP_MEMBER",
        `cannot commit for group ${this.#opts.groupId}: this consumer is not a member of the group now ` +
          `(${
            this.#state === "stopped" ? "stopped" : "not joined, or it crashed"
          }); uncommitted records will be delivered again`,
        { detail: { groupId: this.#opts.groupId } },
      );
    }
    for (const o of offsets) {
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
        throw new LzError("INVALID_OFFSET", `offset ${o.offset} for ${o.topic}:${o.partition} is not valid`);
      }
    }
    try {
      await this.#client.commitOffsets(
        offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
      );
    } catch (err) {
      throw toLzError(err, this.#ctx.address, `commit offsets of group ${this.#opts.groupId}`);
    }
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#paused.set(tpKey(tp.topic, tp.partition), { ...tp });
    if (partitions.length === 0 || !this.#client) return;
    try {
      this.#client.pause(byTopic(partitions));
    } catch { /* not running yet: applied at the next join */ }
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.#paused.delete(tpKey(tp.topic, tp.partition));
    if (partitions.length === 0 || !this.#client) return;
    try {
      this.#client.resume(byTopic(partitions));
    } catch { /* not running: nothing to resume */ }
  }

  assignment(): TopicPartition[] {
    return [...this.#owned.values()].map((tp) => ({ ...tp }));
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#state === "new") {
        this.#state = "stopped";
        return;
      }
      this.#state = "stopping";
      try {
        this.#client?.pause(this.#opts.topics.map((topic) => ({ topic })));
      } catch { /* not running */ }
      await this.#revokeAll(); // waits for the batch in flight; commits still go through here
      await this.#shutdown();
      this.#state = "stopped";
      this.#ctx.untrack(this);
    })();
    return this.#stopping;
  }

  /** Leaves the group and closes every connection (bounded). */
  async #shutdown(): Promise<void> {
    this.#member = false;
    const client = this.#client;
    if (!client) return;
    try {
      await withDeadline(client.disconnect(), 30_000, () => new Error("disconnect timed out after 30 s"));
    } catch (err) {
      this.#log.warn("disconnect did not finish cleanly", { error: describeError(err) });
    } finally {
      this.#unhook?.();
      this.#unhook = null;
    }
  }
}
