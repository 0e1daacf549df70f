/**
 * Group consumers and group-less readers of the embedded broker. A consumer joins its {@link Group}, gets
 * partitions from the eager rebalance, starts each at the committed offset (or earliest/latest when there is
 * none) and delivers batches through a {@link Fetcher}. A reader fetches every partition of its topics.
 */
import type { Logger } from "../../log.ts";
import { LzError } from "../../errors.ts";
import {
  type Batch,
  type Consumer,
  type ConsumerHandlers,
  type ConsumerOptions,
  DEFAULT_MAX_BATCH,
  type GroupOffset,
  type Reader,
  type ReaderOptions,
  type TopicPartition,
} from "../types.ts";
import type { EmbeddedTopic } from "./log.ts";
import type { GroupCoordinator, GroupMemberHandle } from "./group.ts";
import { type FetchEntry, Fetcher, tpKey } from "./fetch.ts";

/** What consumers and readers need from the broker. */
export interface BrokerCore {
  readonly log: Logger;
  readonly groups: GroupCoordinator;
  /** The topic or a thrown LzError `UNKNOWN_TOPIC`. */
  requireTopic(name: string): EmbeddedTopic;
  /** Tracks open consumers/readers so `close()` can stop them. */
  track(c: { stop(): Promise<void> }): void;
  untrack(c: { stop(): Promise<void> }): void;
}

let memberSeq = 0;

/** A member of an embedded consumer group. */
export class EmbeddedConsumer implements Consumer, GroupMemberHandle {
  readonly memberId: string;
  readonly clientId: string;
  readonly topics: string[];
  readonly #core: BrokerCore;
  readonly #opts: ConsumerOptions;
  #handlers: ConsumerHandlers | null = null;
  #fetcher: Fetcher | null = null;
  #pausedBeforeRun: TopicPartition[] = [];
  #stopping: Promise<void> | null = null;
  #left = false;

  constructor(core: BrokerCore, opts: ConsumerOptions) {
    this.#core = core;
    this.#opts = opts;
    this.clientId = opts.clientId ?? "lzsync";
    this.memberId = `${this.clientId}-${(++memberSeq).toString().padStart(6, "0")}-${crypto.randomUUID()}`;
    this.topics = [...opts.topics];
  }

  async run(handlers: ConsumerHandlers): Promise<void> {
    if (this.#handlers) {
      throw new LzError("ALREADY_RUNNING", `consumer of group ${this.#opts.groupId} is already running`);
    }
    if (this.#stopping) throw new LzError("STOPPED", `consumer of group ${this.#opts.groupId} was stopped`);
    for (const t of this.topics) this.#core.requireTopic(t);
    this.#handlers = handlers;
    const log = this.#core.log.child("consumer", { groupId: this.#opts.groupId });
    this.#fetcher = new Fetcher(
      (b: Batch) => handlers.eachBatch(b),
      this.#opts.maxBatchSize ?? DEFAULT_MAX_BATCH,
      log,
    );
    this.#fetcher.pause(this.#pausedBeforeRun);
    this.#fetcher.start();
    this.#core.track(this);
    await this.#core.groups.group(this.#opts.groupId).join(this);
  }

  commit(offsets: GroupOffset[]): Promise<void> {
    try {
      if (offsets.length === 0) return Promise.resolve();
      if (!this.#fetcher || this.#left) {
        throw new LzError(
          "NOT_GROUP_MEMBER",
          `cannot commit for group ${this.#opts.groupId}: this consumer is not a member of the group now ` +
            `(${this.#left ? "stopped" : "not running"}); uncommitted records will be delivered again`,
          { detail: { groupId: this.#opts.groupId } },
        );
      }
      for (const o of offsets) {
        if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
          throw new LzError(
            "INVALID_OFFSET",
            `offset ${o.offset} for ${o.topic}:${o.partition} is not valid`,
          );
        }
      }
      this.#core.groups.commit(this.#opts.groupId, offsets);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  pause(partitions: TopicPartition[]): void {
    if (this.#fetcher) this.#fetcher.pause(partitions);
    else this.#pausedBeforeRun.push(...partitions);
  }

  resume(partitions: TopicPartition[]): void {
    if (this.#fetcher) this.#fetcher.resume(partitions);
    else {
      const gone = new Set(partitions.map((p) => tpKey(p.topic, p.partition)));
      this.#pausedBeforeRun = this.#pausedBeforeRun.filter((p) => !gone.has(tpKey(p.topic, p.partition)));
    }
  }

  assignment(): TopicPartition[] {
    return (this.#fetcher?.entries() ?? []).map((e) => ({ ...e.tp }));
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (!this.#fetcher) return;
      await this.#core.groups.group(this.#opts.groupId).leave(this);
      this.#left = true; // after onRevoked: commits made there still count
      await this.#fetcher.stop();
      this.#core.untrack(this);
    })();
    return this.#stopping;
  }

  /** Group callback: finish the batch in flight, then hand every partition back. */
  async revokeAll(): Promise<void> {
    const f = this.#fetcher!;
    await f.halt();
    const tps = f.entries().map((e) => e.tp);
    f.setEntries([]);
    if (tps.length > 0) await this.#callback("onRevoked", tps);
  }

  /** Group callback: start the given partitions at the committed offset (or the reset position). */
  async assign(partitions: TopicPartition[]): Promise<void> {
    const group = this.#core.groups.group(this.#opts.groupId);
    const entries: FetchEntry[] = [];
    for (const tp of partitions) {
      let topic;
      try {
        topic = this.#core.requireTopic(tp.topic);
      } catch {
        continue; // deleted meanwhile
      }
      const log = topic.partitions[tp.partition];
      const committed = group.committedOffset(tp.topic, tp.partition);
      const reset = this.#opts.fromBeginning === false ? log.high : log.low;
      // Like auto.offset.reset: a commit outside [low, high] (expired or from another log) is reset.
      const position = committed !== undefined && committed >= log.low && committed <= log.high
        ? committed
        : reset;
      entries.push({ tp: { ...tp }, log, position });
    }
    if (entries.length > 0) await this.#callback("onAssigned", entries.map((e) => ({ ...e.tp })));
    this.#fetcher!.setEntries(entries);
    this.#fetcher!.unhalt();
  }

  async #callback(name: "onAssigned" | "onRevoked", tps: TopicPartition[]): Promise<void> {
    try {
      await this.#handlers?.[name]?.(tps);
    } catch (err) {
      this.#core.log.error(`${name} failed`, { groupId: this.#opts.groupId, error: err as Error });
    }
  }
}

/** A group-less reader of whole topics. `run` resolves once positions are resolved and delivery started. */
export class EmbeddedReader implements Reader {
  readonly #core: BrokerCore;
  readonly #opts: ReaderOptions;
  #fetcher: Fetcher | null = null;
  #stopping: Promise<void> | null = null;

  constructor(core: BrokerCore, opts: ReaderOptions) {
    this.#core = core;
    this.#opts = opts;
  }

  run(eachBatch: (batch: Batch) => Promise<void>): Promise<void> {
    if (this.#fetcher) return Promise.reject(new LzError("ALREADY_RUNNING", "reader is already running"));
    if (this.#stopping) return Promise.reject(new LzError("STOPPED", "reader was stopped"));
    try {
      const from = this.#opts.from ?? "earliest";
      const explicit = Array.isArray(from)
        ? new Map(from.map((o) => [tpKey(o.topic, o.partition), o.offset]))
        : null;
      const entries: FetchEntry[] = [];
      for (const name of this.#opts.topics) {
        const topic = this.#core.requireTopic(name);
        for (const log of topic.partitions) {
          let position = from === "latest" ? log.high : log.low;
          if (explicit) position = explicit.get(tpKey(name, log.partition)) ?? log.low;
          entries.push({
            tp: { topic: name, partition: log.partition },
            log,
            position: Math.max(position, log.low),
          });
        }
      }
      this.#fetcher = new Fetcher(eachBatch, DEFAULT_MAX_BATCH, this.#core.log.child("reader"));
      this.#fetcher.setEntries(entries);
      this.#fetcher.start();
      this.#fetcher.unhalt();
      this.#core.track(this);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (!this.#fetcher) return;
      await this.#fetcher.stop();
      this.#core.untrack(this);
    })();
    return this.#stopping;
  }
}
