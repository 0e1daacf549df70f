/**
 * The live feed hub: fans records out to WebSocket and SSE clients.
 *
 * - Positions: per topic partition, the next offset this gateway has not yet seen; a live frame's cursor is
 *   these positions right after its record (computed once per record, only if some client gets it).
 * - Fan-out: a record is serialized once ({@link Frame}); clients are indexed by topic.
 * - Budget: before each send the client's unsent bytes plus the frame must fit `budget`. Over it, policy
 *   `close` closes the client (WS code 1013, its cursor in the reason) and `drop-and-resync` stops sending
 *   to it; once its buffer drains it gets a `resync` frame and is replayed from its last cursor (ring, then
 *   broker), so the client sees no gap. A client lagging longer than `lagTimeoutMs` is closed. Either way a
 *   slow client holds at most its budget, and the others never wait for it.
 * - Connect/resume: see `catchup.ts`.
 */
import type { Broker } from "../../pipeline/broker/types.ts";
import { describeError } from "../../pipeline/errors.ts";
import type { Logger } from "../../pipeline/log.ts";
import { type Cursor, decodeCursor, encodeCursor, pick, type Positions } from "./cursor.ts";
import { controlBody, Frame, makeBody, type Redact } from "./frames.ts";
import type { GatewayMetrics } from "./metrics.ts";
import type { LocalEvent } from "./plugin.ts";
import { type Entry, Rings } from "./ring.ts";
import type { Sink } from "./sinks.ts";
import { Client, type ClientSpec, type FabricOf, sleep, type TopicKind } from "./client.ts";

export { Client, type ClientSpec, sleep, type TopicKind } from "./client.ts";
import type { ViewTable } from "./views.ts";
import { catchUp, type CatchUpHost } from "./catchup.ts";

/** Options of {@link LiveHub}. */
export interface HubOptions {
  id: string;
  budget: number;
  policy: "drop-and-resync" | "close";
  ring: { maxCount: number; maxBytes: number };
  lagTimeoutMs: number;
  heartbeatMs?: number;
  broker: Broker;
  log: Logger;
  metrics: GatewayMetrics;
  table(topic: string): ViewTable | undefined;
  /** The fabric of a record of a fabric-scoped topic (plugins' `fabricTopics`); undefined: not scoped. */
  fabricOf?: FabricOf;
  /** Applied to records read from the broker on resume (plugins' `redactTopics`). */
  redact?: Redact;
}

const WS_REASON_MAX = 123;

/** Fan-out of records and local events to live clients. */
export class LiveHub {
  readonly id: string;
  readonly rings: Rings;
  readonly #o: HubOptions;
  readonly #kinds = new Map<string, TopicKind>();
  readonly #pos = new Map<string, number[]>();
  readonly #byTopic = new Map<string, Set<Client>>();
  readonly #clients = new Set<Client>();
  readonly #lagging = new Set<Client>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  readonly #host: CatchUpHost;
  #seq = 0;
  #cursor: string | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #lastHeartbeat = Date.now();

  constructor(o: HubOptions) {
    this.#o = o;
    this.id = o.id;
    this.rings = new Rings(o.ring);
    this.#host = {
      id: o.id,
      budget: o.budget,
      broker: o.broker,
      log: o.log,
      metrics: o.metrics,
      rings: this.rings,
      signal: this.#abort.signal,
      kind: (t) => this.#kinds.get(t),
      global: (t) => this.#pos.get(t) ?? [],
      table: o.table,
      send: (c, f) => this.#send(c, f),
      control: (c, type, data, cursor) => this.#send(c, new Frame(cursor, controlBody(type, data))),
      waitBudget: (c, need) => this.#waitBudget(c, need),
      goLive: (c, pos) => this.#goLive(c, pos),
      redact: o.redact,
    };
  }

  /** Declares a topic and the offsets (per partition) this gateway starts reading it from. */
  addTopic(topic: string, kind: TopicKind, start: number[]): void {
    this.#kinds.set(topic, kind);
    this.#pos.set(topic, start.slice());
    this.rings.addTopic(topic, start);
    this.#cursor = null;
  }

  kind(topic: string): TopicKind | undefined {
    return this.#kinds.get(topic);
  }

  topics(): string[] {
    return [...this.#kinds.keys()];
  }

  /** How many partitions of `topic` this gateway follows (0 for a topic it does not know). */
  partitions(topic: string): number {
    return this.#pos.get(topic)?.length ?? 0;
  }

  /** The next offset this gateway has not seen in a partition. */
  position(topic: string, partition: number): number {
    return this.#pos.get(topic)?.[partition] ?? 0;
  }

  /** The cursor of "everything seen so far" (all topics). */
  cursor(): string {
    return this.#cursor ??= encodeCursor({ p: Object.fromEntries(this.#pos), g: this.id });
  }

  /** Moves past a record that produces no frame (undecodable). */
  skip(topic: string, partition: number, offset: number): void {
    const pos = this.#pos.get(topic);
    if (pos && pos[partition] <= offset) {
      pos[partition] = offset + 1;
      this.#cursor = null;
    }
  }

  /** Records a read record and fans it out to the live clients that want it. */
  ingest(e: Omit<Entry, "seq">): void {
    const pos = this.#pos.get(e.topic);
    if (!pos) return;
    while (pos.length < e.partition) pos.push(0); // a partition added after start
    pos[e.partition] = e.offset + 1;
    this.#cursor = null;
    const entry: Entry = { ...e, seq: this.#seq++ };
    this.rings.push(entry);
    const clients = this.#byTopic.get(e.topic);
    if (!clients || clients.size === 0) return;
    let frame: Frame | null = null;
    let sent = 0, dropped = 0;
    for (const c of clients) {
      if (c.state !== "live") {
        if (c.state === "lagging" && c.wants(e.key, e.topic)) {
          c.dropped++;
          dropped++;
        }
        continue;
      }
      if (!c.wants(e.key, e.topic)) continue;
      if (c.ahead !== null && this.#behindClient(c, e)) continue;
      frame ??= new Frame(this.cursor(), e.body);
      if (this.#deliver(c, frame)) sent++;
      else dropped++;
    }
    if (sent) this.#o.metrics.framesSent.inc(sent);
    if (dropped) this.#o.metrics.framesDropped.inc(dropped);
  }

  /** Fans out a local event (see GatewayContext.publish). */
  publish(ev: LocalEvent): void {
    if (this.#kinds.get(ev.topic) !== "local") {
      throw new TypeError(`publish(): ${ev.topic} is not a declared local topic of any gateway plugin`);
    }
    const offset = this.#pos.get(ev.topic)![0];
    const body = makeBody({ ...ev, ts: new Date().toISOString() });
    this.ingest({ topic: ev.topic, partition: 0, offset, key: ev.key, body });
  }

  /** Connects a client: snapshot or resume in the background, then live. */
  attach(sink: Sink, spec: ClientSpec): Client {
    const c = new Client(
      sink,
      spec.topics,
      spec.keys,
      spec.snapshot ?? true,
      spec.fabrics ?? null,
      this.#o.fabricOf,
    );
    this.#clients.add(c);
    for (const t of c.topics) {
      let set = this.#byTopic.get(t);
      if (!set) this.#byTopic.set(t, set = new Set());
      set.add(c);
    }
    this.#o.metrics.clients.inc({ transport: sink.transport });
    this.#run(c, spec.cursor);
    return c;
  }

  /** Forgets a client whose connection ended. Idempotent. */
  detach(c: Client): void {
    if (!this.#clients.delete(c)) return;
    c.state = "closed";
    this.#lagging.delete(c);
    for (const t of c.topics) this.#byTopic.get(t)?.delete(c);
    this.#o.metrics.clients.dec({ transport: c.sink.transport });
  }

  /** Number of connected clients (tests, bench). */
  clientCount(): number {
    return this.#clients.size;
  }

  /**
   * Per client (of `topic` only, when given): transport, state and bytes queued but unsent (tests, bench,
   * debugging).
   */
  clientStats(
    topic?: string,
  ): { id: number; transport: string; state: string; buffered: number; topics: string[] }[] {
    const clients = topic === undefined ? this.#clients : this.#byTopic.get(topic) ?? [];
    return [...clients].map((c) => ({
      id: c.id,
      transport: c.sink.transport,
      state: c.state,
      buffered: c.sink.buffered(),
      topics: c.topics,
    }));
  }

  /** Starts the timer that resyncs drained lagging clients and sends SSE heartbeats. */
  start(): void {
    this.#timer ??= setInterval(() => this.#tick(), 50);
  }

  /** Closes every client and waits for their catch-up tasks. */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#abort.abort();
    for (const c of [...this.#clients]) {
      c.sink.close(1001, "gateway shutting down");
      this.detach(c);
    }
    await Promise.allSettled([...this.#tasks]);
  }

  #run(c: Client, from: Cursor | null): void {
    const task = catchUp(this.#host, c, from).catch((err) => {
      if (c.state === "closed") return;
      this.#o.log.error("live client catch-up failed; closing it", {
        client: c.id,
        error: describeError(err),
      });
      c.sink.close(1011, "catch-up failed; reconnect with your last cursor");
      this.detach(c);
    });
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  #behindClient(c: Client, e: Omit<Entry, "seq">): boolean {
    const k = `${e.topic}:${e.partition}`;
    const min = c.ahead!.get(k);
    if (min === undefined) return false;
    if (e.offset < min) return true;
    c.ahead!.delete(k);
    if (c.ahead!.size === 0) c.ahead = null;
    return false;
  }

  #send(c: Client, f: Frame): void {
    if (!this.#safeSend(c, f)) return;
    c.lastCursor = f.cursor;
    this.#o.metrics.framesSent.inc();
  }

  #deliver(c: Client, f: Frame): boolean {
    if (!c.sink.reserve(f.text.length, this.#o.budget)) {
      this.#overflow(c);
      return false;
    }
    if (!this.#safeSend(c, f)) return false;
    c.lastCursor = f.cursor;
    return true;
  }

  /** Sends, treating a transport that throws as gone (never lets one client break the fan-out). */
  #safeSend(c: Client, f: Frame): boolean {
    try {
      c.sink.send(f);
      return true;
    } catch (err) {
      this.#o.log.warn("dropping a live client whose transport failed", {
        client: c.id,
        error: describeError(err),
      });
      c.sink.close(1011, "transport error");
      this.detach(c);
      return false;
    }
  }

  #overflow(c: Client): void {
    this.#o.metrics.slowClientActions.inc({ policy: this.#o.policy });
    if (this.#o.policy === "close") return this.#closeSlow(c);
    c.state = "lagging";
    c.laggingSince = Date.now();
    c.dropped = 1;
    this.#lagging.add(c);
  }

  /** Closes a slow client; the reason carries its cursor (restricted to its topics) when that fits. */
  #closeSlow(c: Client): void {
    let reason = "slow client; reconnect with the cursor of your last frame";
    try {
      const cur = decodeCursor(c.lastCursor);
      const mine = encodeCursor({ p: pick(cur.p, c.topics), s: cur.s, g: cur.g });
      const withCursor = `slow client; cursor=${mine}`;
      if (withCursor.length <= WS_REASON_MAX) reason = withCursor;
    } catch { /* no frame sent yet */ }
    this.#o.log.warn("closing a slow live client", { client: c.id, transport: c.sink.transport });
    c.sink.close(1013, reason);
    this.detach(c);
  }

  async #waitBudget(c: Client, need: number): Promise<boolean> {
    const start = Date.now();
    let polls = 0;
    while (c.state !== "closed" && c.sink.buffered() + need > this.#o.budget) {
      if (c.sink.buffered() === 0) return true; // a single frame larger than the budget: send it alone
      if (Date.now() - start > this.#o.lagTimeoutMs) {
        this.#closeSlow(c);
        return false;
      }
      await sleep(Math.min(20, ++polls), this.#abort.signal); // no drain event in Deno: poll, fast at first
    }
    return c.state !== "closed";
  }

  #goLive(c: Client, pos: Positions): void {
    let ahead: Map<string, number> | null = null;
    for (const [t, offsets] of Object.entries(pos)) {
      const g = this.#pos.get(t) ?? [];
      offsets.forEach((o, p) => {
        if (p < g.length && o > g[p]) (ahead ??= new Map()).set(`${t}:${p}`, o);
      });
    }
    c.ahead = ahead;
    c.lastCursor = encodeCursor({ p: pos, g: this.id });
    c.state = "live";
  }

  #tick(): void {
    const now = Date.now();
    for (const c of this.#lagging) {
      if (c.state !== "lagging") {
        this.#lagging.delete(c);
      } else if (c.sink.buffered() <= this.#o.budget / 4) {
        this.#lagging.delete(c);
        c.state = "catching-up";
        const from = decodeCursor(c.lastCursor);
        this.#send(
          c,
          new Frame(c.lastCursor, controlBody("resync", { reason: "slow-client", dropped: c.dropped })),
        );
        this.#run(c, from);
      } else if (now - c.laggingSince > this.#o.lagTimeoutMs) {
        this.#closeSlow(c);
      }
    }
    if (now - this.#lastHeartbeat >= (this.#o.heartbeatMs ?? 15_000)) {
      this.#lastHeartbeat = now;
      for (const c of this.#clients) c.sink.heartbeat();
    }
  }
}
