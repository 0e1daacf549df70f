/**
 * Test helper run as a child process by `embedded/disk_test.ts`: produces numbered batches to an embedded
 * broker on a data directory and commits after each, printing a line only once the broker acknowledged, so
 * the parent can SIGKILL it mid-stream and check that everything acknowledged survived.
 *
 * Usage: deno run -A embedded/crash_child.ts <dataDir> <topic> <groupId>
 */
import { createEmbeddedBroker } from "./mod.ts";

const [dataDir, topic, groupId] = Deno.args;
const broker = await createEmbeddedBroker({ dataDir });
await broker.admin().createTopics([{ name: topic, partitions: 3 }]);
const producer = await broker.producer();
const enc = new TextEncoder();
const high = [0, 0, 0];
for (let batch = 0;; batch++) {
  const records = Array.from({ length: 50 }, (_, j) => ({
    key: `key-${(batch * 50 + j) % 101}`,
    value: enc.encode(`b${batch}-${j}`),
    headers: { batch: String(batch) },
  }));
  const meta = await producer.send(topic, records);
  for (const m of meta) high[m.partition] = Math.max(high[m.partition], m.offset + 1);
  console.log(JSON.stringify({ acked: batch, high }));
  await broker.admin().setCommitted(groupId, high.map((offset, partition) => ({ topic, partition, offset })));
  console.log(JSON.stringify({ committed: batch, high }));
}
