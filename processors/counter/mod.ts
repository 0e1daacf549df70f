/**
 * The stateful count processor: counts events per key in the `counts` store and forwards the running count
 * to `lz.test.counts.v1`. It is the reference workload of the runtime's tests and bench (restore, replay,
 * crash recovery, throughput). An event with `fail: true` makes `process()` throw, for DLQ tests.
 */
import type { InputRecord, Processor, ProcessorContext, Topology } from "../../pipeline/processor/types.ts";
import type { TestEvent } from "../../schemas/test_events.ts";
// The test topics are registered by the harness, never declared for a user's broker.
import { TEST_COUNTS_TOPIC, TEST_EVENTS_TOPIC } from "../../pipeline/testing/test_topics.ts";

/** Store name (persisted contract: its changelog is `<app>-counts-changelog`). */
export const COUNTS_STORE = "counts";

/** Default application id. */
export const COUNTER_APP = "lz-test-counter";

/** Thrown for events marked `fail: true`. */
export class PoisonEventError extends Error {
  constructor(id: string) {
    super(`event for ${id} is marked fail=true`);
    this.name = "PoisonEventError";
  }
}

/** Creates one task's counter. */
export function createCounter(): Processor<TestEvent> {
  return {
    process(record: InputRecord<TestEvent>, ctx: ProcessorContext): void {
      const ev = record.value;
      if (ev === null) return;
      if (ev.fail) throw new PoisonEventError(ev.id);
      const key = record.key ?? ev.id;
      const counts = ctx.store<number>(COUNTS_STORE);
      const count = (counts.get(key) ?? 0) + 1;
      counts.put(key, count);
      ctx.forward(TEST_COUNTS_TOPIC.name, key, { id: key, count });
    },
  };
}

/** The counter topology; `app` lets tests run several independent instances. */
export function counterTopology(app = COUNTER_APP): Topology<TestEvent> {
  return {
    app,
    inputs: [TEST_EVENTS_TOPIC.name],
    stores: [COUNTS_STORE],
    outputs: [TEST_COUNTS_TOPIC.name],
    create: createCounter,
    description: "counts lz.test.events.v1 per key",
  };
}
