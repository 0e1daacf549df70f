/**
 * Bounded per-topic rings of the most recent live frames, so a reconnecting client resumes from memory.
 *
 * Each topic keeps at most `maxCount` entries and `maxBytes` of frame text, oldest evicted first; a quiet
 * topic is never pushed out by a busy one. For each partition the ring knows `coveredFrom`: every record of
 * that partition this gateway read at or after that offset is still in the ring. A client position below it
 * must be read back from the broker.
 */

/** One record as the live feed serializes it. */
export interface Entry {
  /** Arrival order across all topics of this gateway (replays keep the live order). */
  seq: number;
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  /** The frame JSON after its cursor field: `"topic":…,"key":…,"type":…,"data":…,"ts":…}`. */
  body: string;
}

class TopicRing {
  items: (Entry | undefined)[] = [];
  head = 0;
  bytes = 0;
  coveredFrom: number[];

  constructor(start: number[]) {
    this.coveredFrom = start.slice();
  }

  get size(): number {
    return this.items.length - this.head;
  }

  shift(): Entry {
    const e = this.items[this.head]!;
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }
}

/** The rings of all topics of a gateway. */
export class Rings {
  readonly #rings = new Map<string, TopicRing>();
  readonly #maxCount: number;
  readonly #maxBytes: number;

  constructor(options: { maxCount: number; maxBytes: number }) {
    this.#maxCount = Math.max(1, options.maxCount);
    this.#maxBytes = Math.max(1, options.maxBytes);
  }

  /** Declares a topic and the offsets (per partition) from which this gateway reads it. */
  addTopic(topic: string, start: number[]): void {
    this.#rings.set(topic, new TopicRing(start));
  }

  /** Appends an entry, evicting the oldest ones beyond the bounds. */
  push(e: Entry): void {
    const r = this.#rings.get(e.topic);
    if (!r) throw new Error(`ring for unknown topic ${e.topic}`);
    // A partition added after start: covered from its first record seen here.
    while (r.coveredFrom.length < e.partition) r.coveredFrom.push(0);
    if (r.coveredFrom.length === e.partition) r.coveredFrom.push(e.offset);
    r.items.push(e);
    r.bytes += e.body.length;
    while (r.size > this.#maxCount || (r.bytes > this.#maxBytes && r.size > 1)) {
      const old = r.shift();
      r.bytes -= old.body.length;
      if (r.coveredFrom[old.partition] <= old.offset) r.coveredFrom[old.partition] = old.offset + 1;
    }
  }

  /** The lowest offset of `partition` the ring can replay from (records at or after it are all held). */
  coveredFrom(topic: string, partition: number): number {
    return this.#rings.get(topic)?.coveredFrom[partition] ?? Number.MAX_SAFE_INTEGER;
  }

  /**
   * The entries of `topics` at or after `positions`, in arrival order. Call only when every position is
   * covered (see {@link coveredFrom}).
   */
  collect(positions: Record<string, number[]>): Entry[] {
    const out: Entry[] = [];
    for (const [topic, pos] of Object.entries(positions)) {
      const r = this.#rings.get(topic);
      if (!r) continue;
      for (let i = r.head; i < r.items.length; i++) {
        const e = r.items[i]!;
        if (e.offset >= (pos[e.partition] ?? 0)) out.push(e);
      }
    }
    if (Object.keys(positions).length > 1) out.sort((a, b) => a.seq - b.seq);
    return out;
  }

  /** Entry count and frame bytes held (for metrics and tests). */
  stats(): { entries: number; bytes: number } {
    let entries = 0, bytes = 0;
    for (const r of this.#rings.values()) {
      entries += r.size;
      bytes += r.bytes;
    }
    return { entries, bytes };
  }
}
