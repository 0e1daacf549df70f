/**
 * Bringing one client from "connected" (or "drained after lagging") to live, with no gap and no duplicate:
 *
 * 1. Fresh (no cursor, or a snapshot cursor `s: 1`): the current contents of the requested views as
 *    `snapshot: true` frames (cursor: resume = snapshot again), then a `snapshot-end` control frame.
 * 2. Replay from the client's positions: records the ring no longer holds are read from the broker with a
 *    group-less Reader at those offsets; then the ring up to "now", in live order.
 * 3. The switch to live happens synchronously after the last ring frame, so no record falls between.
 * Positions older than the broker's retention get a `resync` control frame: views are re-snapshotted,
 * event topics continue from the oldest record still held. Every step waits for the client's budget.
 */
import type { Broker, GroupOffset } from "../../pipeline/broker/types.ts";
import type { Logger } from "../../pipeline/log.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { type Cursor, encodeCursor, type Positions } from "./cursor.ts";
import { decodeRecord, Frame, type Redact } from "./frames.ts";
import { type Client, sleep, type TopicKind } from "./client.ts";
import type { Rings } from "./ring.ts";
import type { ViewTable } from "./views.ts";

/** Room reserved for a frame's cursor and envelope when checking a budget. */
const SLACK = 512;
/**
 * A compacted partition whose gap yields no batch for this long (longer before the reader's first batch:
 * a Kafka reader joins a group first), and has nothing past the target, had the rest compacted away.
 */
const COMPACTED_IDLE_MS = 5_000;
const COMPACTED_IDLE_BEFORE_FIRST_MS = 30_000;

/** What catch-up needs from the hub. */
export interface CatchUpHost {
  id: string;
  budget: number;
  broker: Broker;
  log: Logger;
  metrics: GatewayMetrics;
  rings: Rings;
  signal: AbortSignal;
  kind(topic: string): TopicKind | undefined;
  global(topic: string): number[];
  table(topic: string): ViewTable | undefined;
  send(c: Client, frame: Frame): void;
  control(c: Client, type: string, data: unknown, cursor: string): void;
  waitBudget(c: Client, need: number): Promise<boolean>;
  goLive(c: Client, pos: Positions): void;
  /** Applied to every record read from the broker (plugins' `redactTopics`). */
  redact?: Redact;
}

const active = (c: Client) => c.state === "catching-up";

/** Sends `c` what it missed since `from` (or a snapshot), then makes it live. */
export async function catchUp(h: CatchUpHost, c: Client, from: Cursor | null): Promise<void> {
  c.state = "catching-up";
  const pos: Positions = {};
  const snap: string[] = [];
  for (const t of c.topics) {
    const kind = h.kind(t);
    const g = h.global(t);
    const given = from?.p[t];
    const usable = given !== undefined && !(kind === "compacted" && from!.s) &&
      (kind !== "local" || from!.g === h.id);
    if (usable) pos[t] = g.map((_, p) => given[p] ?? 0);
    else if (kind === "compacted" && c.snapshot) snap.push(t);
    else pos[t] = g.slice();
  }
  const fresh = from === null || from.s === 1;
  if (snap.length && !await sendSnapshot(h, c, snap, pos)) return;
  if (fresh) h.control(c, "snapshot-end", { topics: snap }, encodeCursor({ p: pos, g: h.id }));
  await replay(h, c, pos);
}

async function fits(h: CatchUpHost, c: Client, len: number): Promise<boolean> {
  if (c.sink.buffered() + len + SLACK <= h.budget) return active(c);
  return await h.waitBudget(c, len + SLACK) && active(c);
}

/** Sends the current contents of `topics`' views; sets their positions to "now". */
async function sendSnapshot(h: CatchUpHost, c: Client, topics: string[], pos: Positions): Promise<boolean> {
  const bodies: string[] = [];
  for (const t of topics) {
    const table = h.table(t)!;
    if (c.keySet) {
      for (const k of c.keySet) {
        const b = table.bodies.get(k);
        if (b !== undefined && c.wants(k, t)) bodies.push(b);
      }
    } else if (c.fabrics) {
      for (const [k, b] of table.bodies) if (c.wants(k, t)) bodies.push(b);
    } else for (const b of table.bodies.values()) bodies.push(b);
    pos[t] = h.global(t).slice();
  }
  const cursor = encodeCursor({ p: pos, s: 1, g: h.id });
  h.metrics.catchUps.inc({ source: "snapshot" });
  for (const b of bodies) {
    if (!await fits(h, c, b.length)) return false;
    h.send(c, new Frame(cursor, b));
  }
  return true;
}

async function replay(h: CatchUpHost, c: Client, pos: Positions): Promise<void> {
  while (active(c)) {
    const uncovered: { t: string; p: number }[] = [];
    for (const [t, offs] of Object.entries(pos)) {
      offs.forEach((o, p) => {
        if (o < h.rings.coveredFrom(t, p)) uncovered.push({ t, p });
      });
    }
    if (uncovered.length === 0) {
      const entries = h.rings.collect(pos);
      if (entries.length) h.metrics.catchUps.inc({ source: "ring" });
      let i = 0;
      for (; i < entries.length; i++) {
        const e = entries[i];
        if (!c.wants(e.key, e.topic)) {
          pos[e.topic][e.partition] = e.offset + 1;
          continue;
        }
        if (c.sink.buffered() > 0 && c.sink.buffered() + e.body.length + SLACK > h.budget) break;
        pos[e.topic][e.partition] = e.offset + 1;
        h.send(c, new Frame(encodeCursor({ p: pos, g: h.id }), e.body));
      }
      if (i === entries.length) return h.goLive(c, pos);
      if (!await fits(h, c, entries[i].body.length)) return;
      continue;
    }
    const lost = uncovered.filter((u) => h.kind(u.t) === "local");
    if (lost.length) {
      for (const u of lost) pos[u.t][u.p] = h.rings.coveredFrom(u.t, u.p);
      const topics = [...new Set(lost.map((u) => u.t))];
      h.control(c, "resync", { reason: "local-events-lost", topics }, encodeCursor({ p: pos, g: h.id }));
    }
    const gap = uncovered.filter((u) => h.kind(u.t) !== "local");
    if (gap.length && !await readGap(h, c, pos, gap)) return;
  }
}

/** Reads [position, ring coverage) of the given partitions from the broker and sends it. */
async function readGap(
  h: CatchUpHost,
  c: Client,
  pos: Positions,
  gap: { t: string; p: number }[],
): Promise<boolean> {
  const admin = h.broker.admin();
  const topics = [...new Set(gap.map((u) => u.t))];
  const from: GroupOffset[] = [];
  const targets = new Map<string, number>();
  const resnapshot: string[] = [];
  for (const t of topics) {
    for (const o of await admin.topicOffsets(t)) {
      const k = `${t}:${o.partition}`;
      const at = pos[t][o.partition];
      const needed = gap.some((u) => u.t === t && u.p === o.partition);
      if (needed && at < o.low && h.kind(t) === "compacted") {
        if (!resnapshot.includes(t)) resnapshot.push(t);
      } else if (needed) {
        if (at < o.low) {
          pos[t][o.partition] = o.low;
          const lost = o.low - at;
          h.control(
            c,
            "resync",
            { reason: "cursor-expired", topic: t, partition: o.partition, lost },
            encodeCursor({ p: pos, g: h.id }),
          );
        }
        targets.set(k, h.rings.coveredFrom(t, o.partition));
      }
      from.push({ topic: t, partition: o.partition, offset: needed ? pos[t][o.partition] : o.high });
    }
  }
  if (resnapshot.length) {
    h.control(
      c,
      "resync",
      { reason: "cursor-expired", topics: resnapshot, action: "snapshot" },
      encodeCursor({ p: pos, g: h.id }),
    );
    if (!await sendSnapshot(h, c, resnapshot, pos)) return false;
    h.control(c, "snapshot-end", { topics: resnapshot }, encodeCursor({ p: pos, g: h.id }));
    for (const t of resnapshot) for (const [k] of targets) if (k.startsWith(`${t}:`)) targets.delete(k);
  }
  const remaining = new Set(
    [...targets].filter(([k, target]) => {
      const i = k.lastIndexOf(":");
      return pos[k.slice(0, i)][Number(k.slice(i + 1))] < target;
    }).map(([k]) => k),
  );
  if (remaining.size === 0) return active(c);

  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => [finish, fail] = [res, rej]);
  done.catch(() => {}); // observed through the race below
  let lastBatch = Date.now();
  let sawBatch = false;
  h.metrics.catchUps.inc({ source: "broker" });
  const reader = h.broker.reader({
    topics: [...new Set([...remaining].map((k) => k.slice(0, k.lastIndexOf(":"))))],
    from: from.filter((f) => topics.includes(f.topic)),
  });
  try {
    await reader.run(async (batch) => {
      lastBatch = Date.now();
      sawBatch = true;
      const k = `${batch.topic}:${batch.partition}`;
      const target = targets.get(k);
      if (target === undefined || !remaining.has(k)) return;
      try {
        const offs = pos[batch.topic];
        for (const r of batch.records) {
          if (!active(c)) break;
          if (r.offset < offs[r.partition]) continue;
          if (r.offset >= target) {
            remaining.delete(k);
            break;
          }
          const d = decodeRecord(r, h.redact);
          if (d.ok && c.wants(r.key, r.topic)) {
            if (!await fits(h, c, d.body.length)) break;
            offs[r.partition] = r.offset + 1;
            h.send(c, new Frame(encodeCursor({ p: pos, g: h.id }), d.body));
          } else offs[r.partition] = r.offset + 1;
          if (offs[r.partition] >= target) remaining.delete(k);
        }
        if (remaining.size === 0 || !active(c)) finish();
      } catch (err) {
        fail(err);
      }
    });
    while (active(c) && remaining.size > 0) {
      const tick = sleep(1_000, h.signal);
      if (await Promise.race([done.then(() => true), tick.then(() => false)])) break;
      if (h.signal.aborted) break;
      if (Date.now() - lastBatch < (sawBatch ? COMPACTED_IDLE_MS : COMPACTED_IDLE_BEFORE_FIRST_MS)) continue;
      for (const k of [...remaining]) {
        const i = k.lastIndexOf(":");
        const t = k.slice(0, i);
        if (h.kind(t) !== "compacted") continue;
        const p = Number(k.slice(i + 1));
        const high = (await admin.topicOffsets(t)).find((o) => o.partition === p)?.high ?? 0;
        if (high <= targets.get(k)!) { // the rest of the gap was compacted away
          pos[t][p] = Math.max(pos[t][p], targets.get(k)!);
          remaining.delete(k);
        }
      }
    }
  } finally {
    await reader.stop();
  }
  return active(c);
}
