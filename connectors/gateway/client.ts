/** A live-feed client as the hub sees it, what it asked for, and a small abortable sleep. */
import type { Cursor } from "./cursor.ts";
import type { Sink } from "./sinks.ts";

/** How a topic is fed: a view (snapshot on connect), an event topic, or local events of this process. */
export type TopicKind = "compacted" | "event" | "local";

/** What a client asked for. */
export interface ClientSpec {
  topics: string[];
  /** Only records with one of these keys (null = all). */
  keys: string[] | null;
  /** Resume point; null = fresh (snapshot of compacted topics, then live). */
  cursor: Cursor | null;
  /** False: a fresh connect gets no snapshot, only what happens from now (`?snapshot=0`). Default true. */
  snapshot?: boolean;
  /** The fabric ids the client's token is restricted to (null/absent = all); see `fabricTopics`. */
  fabrics?: ReadonlySet<string> | null;
}

/** Tells the fabric a record of `topic` belongs to, or undefined when `topic` is not fabric-scoped. */
export type FabricOf = (topic: string, key: string | null) => string | null | undefined;

/** A connected live-feed client. */
export class Client {
  static #next = 1;
  readonly id = Client.#next++;
  state: "catching-up" | "live" | "lagging" | "closed" = "catching-up";
  /** Cursor of the last frame handed to the transport. */
  lastCursor = "";
  /** Partitions where the client's cursor is ahead of this gateway: skip records below these offsets. */
  ahead: Map<string, number> | null = null;
  laggingSince = 0;
  dropped = 0;
  readonly topicSet: Set<string>;
  readonly keySet: Set<string> | null;

  constructor(
    readonly sink: Sink,
    readonly topics: string[],
    keys: string[] | null,
    readonly snapshot = true,
    readonly fabrics: ReadonlySet<string> | null = null,
    readonly fabricOf: FabricOf = () => undefined,
  ) {
    this.topicSet = new Set(topics);
    this.keySet = keys ? new Set(keys) : null;
  }

  /** True when the client gets the record of `topic` keyed `key`: its key filter and its fabrics. */
  wants(key: string | null, topic: string): boolean {
    if (this.keySet !== null && (key === null || !this.keySet.has(key))) return false;
    if (this.fabrics === null) return true;
    const f = this.fabricOf(topic, key);
    return f === undefined || (f !== null && this.fabrics.has(f));
  }
}

/** Sleeps `ms`, or less when `signal` aborts (so shutdown never waits on a timer). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
