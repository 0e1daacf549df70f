/**
 * The broker conformance suite: one set of behaviours that the embedded broker and Kafka (kafkajs) must both
 * show, registered as `Deno.test` cases by {@link brokerConformanceSuite}. Each case gets a fresh broker from
 * the factory, uses uniquely named topics and groups (so all cases can share one Kafka broker), and waits for
 * conditions with deadlines rather than fixed sleeps. Only user-observable behaviour is asserted (for
 * compaction: the latest value per key wins, never that old records are physically gone).
 *
 * Semantics the cases pin down beyond `types.ts`:
 * - `Reader.run` resolves once every partition's start position is resolved (records appended afterwards
 *   are delivered, even from `latest`); the cases tolerate a `run` that settles only at `stop`.
 * - `onAssigned` precedes the first batch of a partition; `stop()` calls `onRevoked` with what it owned.
 * - `fetchCommitted` returns only partitions that have a commit; `describeGroup` of an unknown group has
 *   no members.
 */
import type { Broker } from "../types.ts";
import { type ConformanceCase, Scope } from "./util.ts";
import { topicCases } from "./topics.ts";
import { groupCases } from "./groups.ts";
import { readerCases } from "./readers.ts";

/** A broker under test and how to dispose of it (close clients, delete temp dirs). */
export interface BrokerUnderTest {
  broker: Broker;
  cleanup(): Promise<void>;
}

/** Every conformance case, for tools that want to list or run them another way. */
export const conformanceCases: readonly ConformanceCase[] = [...topicCases, ...groupCases, ...readerCases];

/**
 * Registers one `Deno.test` per conformance case, named `<name>: <case>`. `opts.ignore` skips them all
 * (e.g. `needs("kafka")`).
 */
export function brokerConformanceSuite(
  name: string,
  makeBroker: () => Promise<BrokerUnderTest>,
  opts: { ignore?: boolean } = {},
): void {
  for (const c of conformanceCases) {
    Deno.test({
      name: `${name}: ${c.name}`,
      ignore: opts.ignore ?? false,
      fn: async () => {
        const under = await makeBroker();
        const scope = new Scope(under.broker);
        try {
          await c.fn(under.broker, scope);
        } finally {
          try {
            await scope.close();
          } finally {
            await under.cleanup();
          }
        }
      },
    });
  }
}
