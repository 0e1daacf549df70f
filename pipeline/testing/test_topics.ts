/**
 * Registers the test topics (`lz.test.events.v1`, `lz.test.counts.v1`, declared in `schemas/test_events.ts`)
 * with the topic registry: serde, hosts and the test driver then know them, while `lzsync start` never
 * creates them on a user's broker. Imported for its effect by the counter processor (the harness's
 * reference workload) and by tests that use the test topics without it.
 */
import { registerTestTopic } from "../../schemas/mod.ts";
import { TEST_COUNTS_TOPIC, TEST_EVENTS_TOPIC } from "../../schemas/test_events.ts";

registerTestTopic(TEST_EVENTS_TOPIC);
registerTestTopic(TEST_COUNTS_TOPIC);

export { TEST_COUNTS_TOPIC, TEST_EVENTS_TOPIC };
