/**
 * Processor host scenarios on both brokers: the embedded one (always) and a real Kafka broker (started by
 * `deno task test`). The SIGKILL scenario is in `host_crash_integration_test.ts`.
 */
import type { Broker } from "../broker/types.ts";
import { createEmbeddedBroker } from "../broker/embedded/mod.ts";
import { needs, requireKafka } from "../testing/env.ts";
import { silentLogger } from "../log.ts";
import {
  poisonRecordsGoToDlq,
  replayRebuildsTheSameState,
  restartAfterLostCommitDoesNotDoubleCount,
  twoMembersShareAndTakeOver,
} from "./_scenarios.ts";

const scenarios: [string, (b: Broker) => Promise<void>][] = [
  [
    "two members share the partitions and the survivor takes over with exact counts",
    twoMembersShareAndTakeOver,
  ],
  [
    "poison records go to the DLQ with reason and source offset; later records are processed",
    poisonRecordsGoToDlq,
  ],
  ["digest after replay --to earliest and a restart equals the digest before", replayRebuildsTheSameState],
  [
    "a restart after a lost commit skips what the changelog already applied",
    restartAfterLostCommitDoesNotDoubleCount,
  ],
];

async function kafkaBroker(): Promise<Broker> {
  const { createBroker } = await import("../broker/mod.ts");
  return await createBroker({
    kind: "kafka",
    brokers: requireKafka().split(","),
    clientId: "host-it",
    logger: silentLogger,
  });
}

for (const [name, fn] of scenarios) {
  Deno.test(`embedded: ${name}`, async () => {
    const broker = await createEmbeddedBroker();
    try {
      await fn(broker);
    } finally {
      await broker.close();
    }
  });
  Deno.test({
    name: `kafka: ${name}`,
    ignore: needs("kafka"),
    async fn() {
      const broker = await kafkaBroker();
      try {
        await fn(broker);
      } finally {
        await broker.close();
      }
    },
  });
}
