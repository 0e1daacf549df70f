/**
 * The gateway's read views: global tables of the plugins' compacted topics (each read in full, latest value
 * per key, tombstones delete), plus the event topics streamed live from the offsets seen at start. One
 * group-less broker Reader feeds both; every record goes to the live hub ({@link ViewFeed}) after the view is updated,
 * so a view and the feed's positions are always consistent with each other.
 */
import type { Batch, Broker, Reader } from "../../pipeline/broker/types.ts";
import { describeError } from "../../pipeline/errors.ts";
import type { Logger } from "../../pipeline/log.ts";
import { topicDef } from "../../schemas/mod.ts";
import { decodeRecord, type Redact, snapshotBody } from "./frames.ts";
import type { GatewayMetrics } from "./metrics.ts";
import type { TopicKind } from "./client.ts";
import type { Entry } from "./ring.ts";

/** A view: decoded values for plugins, and each key's snapshot frame body (built once per update). */
export class ViewTable {
  readonly values = new Map<string, unknown>();
  readonly bodies = new Map<string, string>();
}

/**
 * Where the views' reader sends what it reads: the live hub (`live.ts`'s `LiveHub`), named here by what the
 * reader needs so the views do not depend on the hub.
 */
export interface ViewFeed {
  /** Declares a topic and the offsets (per partition) the feed starts from. */
  addTopic(topic: string, kind: TopicKind, start: number[]): void;
  /** The next offset the feed has not seen in a partition. */
  position(topic: string, partition: number): number;
  /** Moves past a record that produces no frame (undecodable). */
  skip(topic: string, partition: number, offset: number): void;
  /** A record read, after its view was updated. */
  ingest(e: Omit<Entry, "seq">): void;
  /** Connected clients (the reader yields to the event loop only when some are waiting). */
  clientCount(): number;
}

/** Options of {@link Views}. */
export interface ViewsOptions {
  broker: Broker;
  log: Logger;
  metrics: GatewayMetrics;
  hub: ViewFeed;
  compacted: string[];
  events: string[];
  /** Partitions of topics the gateway has to create (absent ones). */
  partitions: number;
  /**
   * Frame bytes fanned out before the reader yields to the event loop, so sockets drain between bursts
   * (a client's unsent bytes can only fall while the loop runs). A quarter of the client budget.
   */
  yieldBytes: number;
  /** Applied to every decoded value (plugins' `redactTopics`). */
  redact?: Redact;
}

/** Materialized views and the reader that keeps them (and the live feed) current. */
export class Views {
  readonly #o: ViewsOptions;
  readonly #tables = new Map<string, ViewTable>();
  /** Per compacted topic: the high offsets at start, which the view must reach to be ready. */
  readonly #targets = new Map<string, number[]>();
  #reader: Reader | null = null;
  #decodeErrors = 0;

  constructor(o: ViewsOptions) {
    this.#o = o;
    for (const t of o.compacted) this.#tables.set(t, new ViewTable());
  }

  /** The table of a compacted topic, or undefined when no plugin declared it. */
  table(topic: string): ViewTable | undefined {
    return this.#tables.get(topic);
  }

  /** Creates missing topics, resolves start offsets and starts reading. Does not wait for catch-up. */
  async start(): Promise<void> {
    const { broker, hub, compacted, events, partitions } = this.#o;
    const admin = broker.admin();
    const existing = new Set(await admin.listTopics());
    // Topics declared in schemas/ get their declared partitions; others the configured default.
    const spec = (name: string, compacted: boolean) => ({
      name,
      partitions: topicDef(name)?.partitions ?? partitions,
      compacted: topicDef(name)?.compacted ?? compacted,
    });
    const missing = [
      ...compacted.filter((t) => !existing.has(t)).map((t) => spec(t, true)),
      ...events.filter((t) => !existing.has(t)).map((t) => spec(t, false)),
    ];
    if (missing.length) await admin.createTopics(missing);
    const from: { topic: string; partition: number; offset: number }[] = [];
    for (const topic of [...compacted, ...events]) {
      const offs = (await admin.topicOffsets(topic)).sort((a, b) => a.partition - b.partition);
      const isView = this.#tables.has(topic);
      const start = offs.map((o) => (isView ? o.low : o.high));
      hub.addTopic(topic, isView ? "compacted" : "event", start);
      if (isView) this.#targets.set(topic, offs.map((o) => o.high));
      offs.forEach((o, i) => from.push({ topic, partition: o.partition, offset: start[i] }));
    }
    if (from.length === 0) return;
    this.#reader = broker.reader({ topics: [...compacted, ...events], from });
    await this.#reader.run((batch) => this.#apply(batch));
  }

  #sinceYield = 0;

  async #apply(batch: Batch): Promise<void> {
    const { hub, log, metrics } = this.#o;
    const table = this.#tables.get(batch.topic);
    for (const r of batch.records) {
      if (r.offset < hub.position(r.topic, r.partition)) continue; // redelivery after a retry
      const d = decodeRecord(r, this.#o.redact);
      if (!d.ok) {
        metrics.decodeErrors.inc({ topic: r.topic });
        if (this.#decodeErrors++ < 100 || this.#decodeErrors % 1000 === 0) {
          log.warn("skipping a record the live feed cannot decode", {
            topic: r.topic,
            partition: r.partition,
            offset: r.offset,
            error: describeError(d.error),
          });
        }
        hub.skip(r.topic, r.partition, r.offset);
        continue;
      }
      if (table && r.key !== null) {
        if (d.value === null) {
          table.values.delete(r.key);
          table.bodies.delete(r.key);
        } else {
          table.values.set(r.key, d.value);
          table.bodies.set(r.key, snapshotBody(d.body));
        }
      }
      hub.ingest({ topic: r.topic, partition: r.partition, offset: r.offset, key: r.key, body: d.body });
      this.#sinceYield += d.body.length;
      if (this.#sinceYield >= this.#o.yieldBytes && hub.clientCount() > 0) {
        this.#sinceYield = 0;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  }

  /** True when every view reached the high offsets seen at start. */
  ready(): boolean {
    return this.lagging().length === 0;
  }

  /** Partitions of views still catching up to their start high offsets. */
  lagging(): { topic: string; partition: number; position: number; target: number }[] {
    const out = [];
    for (const [topic, targets] of this.#targets) {
      for (let p = 0; p < targets.length; p++) {
        const position = this.#o.hub.position(topic, p);
        if (position < targets[p]) out.push({ topic, partition: p, position, target: targets[p] });
      }
    }
    return out;
  }

  /** Number of keys in each view (for metrics). */
  sizes(): Map<string, number> {
    return new Map([...this.#tables].map(([t, v]) => [t, v.values.size]));
  }

  async stop(): Promise<void> {
    const r = this.#reader;
    this.#reader = null;
    if (r) await r.stop();
  }
}
