/**
 * Helpers of the processor host's tests: produce counted events, wait for a group to catch up, read counts.
 */
import type { Broker } from "../broker/types.ts";
import { encodeJson } from "../serde.ts";
import { readGroupState } from "../digest.ts";
import { COUNTS_STORE } from "../../processors/counter/mod.ts";
import { TEST_EVENTS_TOPIC } from "../../pipeline/testing/test_topics.ts";

export const EVENTS = TEST_EVENTS_TOPIC.name;

/** Creates the events topic as declared and produces `n` events over `keys` keys; returns expected counts. */
export async function produceEvents(
  broker: Broker,
  n: number,
  keys: number,
  opts: { prefix?: string; batch?: number } = {},
): Promise<Map<string, number>> {
  await broker.admin().createTopics([{ name: EVENTS, partitions: TEST_EVENTS_TOPIC.partitions }]);
  const producer = await broker.producer();
  const expected = new Map<string, number>();
  const batch = opts.batch ?? 2000;
  try {
    for (let i = 0; i < n; i += batch) {
      const recs = [];
      for (let j = i; j < Math.min(n, i + batch); j++) {
        const key = `${opts.prefix ?? "k"}${j % keys}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
        recs.push({ key, value: encodeJson({ id: key, n: j }) });
      }
      await producer.send(EVENTS, recs);
    }
  } finally {
    await producer.close();
  }
  return expected;
}

/** True when `group` has committed every partition of `topic` up to its high offset. */
export async function caughtUp(broker: Broker, group: string, topic = EVENTS): Promise<boolean> {
  const admin = broker.admin();
  const [highs, committed] = await Promise.all([
    admin.topicOffsets(topic),
    admin.fetchCommitted(group, [topic]),
  ]);
  return highs.every((h) => (committed.find((c) => c.partition === h.partition)?.offset ?? 0) >= h.high);
}

/** The counts store of `group`, read from its changelog, flattened over partitions. */
export async function readCounts(broker: Broker, group: string): Promise<Map<string, number>> {
  const state = await readGroupState({ broker, group, stores: [COUNTS_STORE] });
  const out = new Map<string, number>();
  for (const m of state.get(COUNTS_STORE)!.values()) for (const [k, v] of m) out.set(k, v as number);
  return out;
}

/** Sorted entries, for deepEqual of maps with readable diffs. */
export function sorted(m: Map<string, number>): [string, number][] {
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
