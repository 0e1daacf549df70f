/**
 * Topics of the stateful count processor (`processors/counter/`), used by the runtime's tests and bench.
 * Events are keyed by the entity they count; counts are a compacted table keyed the same way.
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

/** One event to count. `fail: true` makes the counter throw (poison-record tests). */
export const TestEvent = Type.Object({
  id: Type.String({ description: "entity counted (same as the record key)" }),
  n: Type.Optional(Type.Integer({ minimum: 0, description: "sequence number, for humans" })),
  fail: Type.Optional(Type.Boolean({ description: "test hook: the counter throws on this record" })),
  payload: Type.Optional(
    Type.String({ maxLength: 4096, description: "padding, to bench realistic record sizes" }),
  ),
}, { additionalProperties: false });
export type TestEvent = Static<typeof TestEvent>;

export const TEST_EVENTS_TOPIC = defineTopic({
  name: "lz.test.events.v1",
  schema: TestEvent,
  compacted: false,
  partitions: 4,
  key: "entity id",
  description: "Events counted by the counter processor (tests and bench).",
});

/** The running count of one entity. */
export const TestCount = Type.Object({
  id: Type.String(),
  count: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false });
export type TestCount = Static<typeof TestCount>;

export const TEST_COUNTS_TOPIC = defineTopic({
  name: "lz.test.counts.v1",
  schema: TestCount,
  compacted: true,
  partitions: 4,
  key: "entity id",
  description: "Count per entity, emitted by the counter processor.",
});
