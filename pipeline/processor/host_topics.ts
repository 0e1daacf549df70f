/**
 * The topics a processor host needs before it joins its group: declared topics are created, undeclared ones
 * must exist, inputs must be co-partitioned, and each store's changelog has at least as many partitions as
 * the inputs.
 *
 * @module
 */
import type { Broker, TopicSpec } from "../broker/types.ts";
import { LzError } from "../errors.ts";
import { topicDef } from "../../schemas/mod.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import { changelogTopic, type Topology } from "./types.ts";

/** What {@link ensureTopics} found. */
export interface HostTopics {
  /** Partition count of the inputs: one task per partition number. */
  partitions: number;
  /** Partition count of each output topic. */
  outputPartitions: Map<string, number>;
}

/**
 * Creates the declared topics of `topology` (inputs, outputs, tables, the DLQ) and its changelogs, and checks
 * the rest. Throws `UNKNOWN_TOPIC` (an undeclared topic that does not exist), `NOT_COPARTITIONED` (inputs
 * with different partition counts) or `CHANGELOG_PARTITIONS` (a changelog with fewer partitions than the
 * inputs), each saying what to do.
 */
export async function ensureTopics(broker: Broker, topology: Topology): Promise<HostTopics> {
  const app = topology.app;
  const admin = broker.admin();
  const specs: TopicSpec[] = [];
  const undeclared: string[] = [];
  const tables = (topology.tables ?? []).map((t) => t.topic);
  for (const name of new Set([...topology.inputs, ...topology.outputs, ...tables, DLQ_TOPIC.name])) {
    const def = topicDef(name);
    if (def) specs.push({ name, partitions: def.partitions, compacted: def.compacted });
    else undeclared.push(name);
  }
  await admin.createTopics(specs);
  for (const name of undeclared) {
    try {
      await admin.describeTopic(name);
    } catch (err) {
      throw new LzError(
        "UNKNOWN_TOPIC",
        `topology ${app} uses topic ${name}, which is not declared in schemas/mod.ts and does not exist on ` +
          `${broker.address}; declare it in schemas/ or create it (lzsync topics create ${name})`,
        { cause: err },
      );
    }
  }
  const outputPartitions = new Map<string, number>();
  for (const t of topology.outputs) outputPartitions.set(t, (await admin.describeTopic(t)).partitions);
  const counts = await Promise.all(
    topology.inputs.map(async (t) => (await admin.describeTopic(t)).partitions),
  );
  const n = Math.max(...counts);
  if (counts.some((c) => c !== n)) {
    throw new LzError(
      "NOT_COPARTITIONED",
      `inputs of ${app} must have the same partition count: ${
        topology.inputs.map((t, i) => `${t}=${counts[i]}`).join(", ")
      }`,
    );
  }
  const changelogs = topology.stores.map((s) => changelogTopic(app, s));
  await admin.createTopics(changelogs.map((name) => ({ name, partitions: n, compacted: true })));
  for (const name of changelogs) {
    const d = await admin.describeTopic(name);
    if (d.partitions < n) {
      throw new LzError(
        "CHANGELOG_PARTITIONS",
        `changelog ${name} has ${d.partitions} partitions but the inputs have ${n}; drop the state with ` +
          `lzsync replay --group ${app} --to earliest`,
      );
    }
  }
  return { partitions: n, outputPartitions };
}
