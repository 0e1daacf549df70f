/**
 * Consumer lag per group and partition: in records (high offset − committed offset) and in seconds (now −
 * timestamp of the oldest unconsumed record, 0 when caught up). A partition without a commit counts from its
 * low offset, where the group would start.
 */
import type { Batch, Broker, GroupOffset } from "./broker/types.ts";

/** Lag of one group on one partition. */
export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  /** Next offset the group will read; null when it never committed on this partition. */
  committed: number | null;
  high: number;
  lag: number;
  lag_seconds: number;
}

/** Lag of `group` (or of every group) on every partition of the topics it consumes. */
export async function groupLag(
  opts: { broker: Broker; group?: string; topics?: string[]; now?: number; timeoutMs?: number },
): Promise<PartitionLag[]> {
  const { broker } = opts;
  const admin = broker.admin();
  const groups = opts.group ? [opts.group] : (await admin.listGroups()).sort();
  const rows: PartitionLag[] = [];
  for (const group of groups) {
    const committed = await admin.fetchCommitted(group, opts.topics);
    const topics = opts.topics ?? [...new Set(committed.map((c) => c.topic))].sort();
    for (const topic of topics) {
      for (const o of await admin.topicOffsets(topic)) {
        const c = committed.find((x) => x.topic === topic && x.partition === o.partition)?.offset ?? null;
        const from = Math.max(c ?? o.low, o.low);
        rows.push({
          group,
          topic,
          partition: o.partition,
          committed: c,
          high: o.high,
          lag: Math.max(0, o.high - from),
          lag_seconds: 0,
        });
      }
    }
  }
  await fillLagSeconds(broker, rows, opts.now ?? Date.now(), opts.timeoutMs ?? 10_000);
  return rows;
}

/** Reads the first unconsumed record of each lagging partition to date it. */
async function fillLagSeconds(
  broker: Broker,
  rows: PartitionLag[],
  now: number,
  timeoutMs: number,
): Promise<void> {
  const lagging = rows.filter((r) => r.lag > 0);
  if (lagging.length === 0) return;
  const topics = [...new Set(lagging.map((r) => r.topic))];
  const from: GroupOffset[] = [];
  const admin = broker.admin();
  // One reader per distinct start position set: rows of different groups on one partition may differ.
  const byStart = new Map<string, PartitionLag[]>();
  for (const r of lagging) {
    const k = `${r.topic}:${r.partition}:${Math.max(r.committed ?? 0, r.high - r.lag)}`;
    byStart.set(k, [...(byStart.get(k) ?? []), r]);
  }
  const wanted = new Map<string, { offset: number; rows: PartitionLag[] }[]>();
  for (const rs of byStart.values()) {
    const r = rs[0];
    const key = `${r.topic}:${r.partition}`;
    wanted.set(key, [...(wanted.get(key) ?? []), { offset: r.high - r.lag, rows: rs }]);
  }
  for (const topic of topics) {
    for (const o of await admin.topicOffsets(topic)) {
      const w = wanted.get(`${topic}:${o.partition}`);
      from.push({ topic, partition: o.partition, offset: w ? Math.min(...w.map((x) => x.offset)) : o.high });
    }
  }
  let left = [...wanted.values()].reduce((n, w) => n + w.length, 0);
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const reader = broker.reader({ topics, from });
  const eachBatch = (b: Batch): Promise<void> => {
    const w = wanted.get(`${b.topic}:${b.partition}`);
    if (w) {
      for (const x of [...w]) {
        const rec = b.records.find((r) => r.offset >= x.offset);
        if (!rec) continue;
        for (const row of x.rows) row.lag_seconds = Math.max(0, (now - rec.timestamp) / 1000);
        w.splice(w.indexOf(x), 1);
        left--;
      }
      if (left === 0) done();
    }
    return Promise.resolve();
  };
  const timer = setTimeout(done, timeoutMs);
  const running = reader.run(eachBatch);
  running.catch(() => done());
  try {
    await finished;
  } finally {
    clearTimeout(timer);
    await reader.stop();
    await running.catch(() => {});
  }
}
