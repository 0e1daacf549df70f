/**
 * Topic creation from the declarations: every topic's schema is declared once in `schemas/` (the registry
 * serde reads, `schemas/mod.ts`), and each is owned by one feature (`Feature.topics`, listed by
 * `featureTopics()` in `pipeline/features.ts`) or by the runtime ({@link RUNTIME_TOPICS}).
 * {@link declaredTopicSpecs} derives every topic's partition count from its declaration and the config, and
 * {@link ensureTopics} (called once at start by `runPipeline`) creates the missing ones and reports existing
 * ones that have fewer partitions than configured. It never adds partitions: keyed state would move to other
 * tasks (see the README, "Partitions").
 */
import type { Admin, TopicSpec } from "./broker/types.ts";
import type { Config, Runtime } from "./config.ts";
import type { Logger } from "./log.ts";
import { LzError } from "./errors.ts";
import { TOPICS } from "../schemas/mod.ts";
import type { TopicDef } from "../schemas/topic.ts";
import { DLQ_TOPIC } from "../schemas/dlq.ts";

/** The topics the runtime itself owns (every processor host writes the DLQ), not any one feature. */
export const RUNTIME_TOPICS: readonly TopicDef[] = [DLQ_TOPIC];

/**
 * The partition count of a declared topic under `config`: a `processors.topics` override, else
 * `broker.partitions` for a keyed topic, else the declared count.
 */
export function topicPartitions(def: TopicDef, config: Config): number {
  const override = config.processors.topics[def.name]?.partitions;
  if (override !== undefined) return override;
  return def.keyed ? config.broker.partitions : def.partitions;
}

/**
 * The topics to create at start with their configured partition counts: `defs` (by default every declared
 * topic; `runPipeline` passes the features' and the runtime's declarations, `featureTopics()`, which a test
 * keeps equal to that registry). Test topics are never among them: the test harness registers them, see
 * `pipeline/testing/test_topics.ts`.
 */
export function declaredTopicSpecs(
  runtime: Runtime,
  defs: Iterable<TopicDef> = TOPICS.values(),
): TopicSpec[] {
  const { config } = runtime;
  const unknown = Object.keys(config.processors.topics).filter((t) => !TOPICS.has(t));
  if (unknown.length) {
    throw new LzError(
      "CONFIG",
      `processors.topics names unknown topic(s) ${unknown.join(", ")}; declared topics are: ${
        [...TOPICS.keys()].sort().join(", ")
      }`,
    );
  }
  return [...defs].map((t) => ({
    name: t.name,
    partitions: topicPartitions(t, config),
    compacted: t.compacted,
  }));
}

/** An existing topic with fewer partitions than configured. */
export interface ShortTopic {
  name: string;
  configured: number;
  actual: number;
}

/**
 * Creates the topics of `specs` that do not exist and checks the partition count of those that do. A topic
 * with fewer partitions than configured keeps its count (lzsync runs on it as it is, with fewer tasks): each
 * one is logged as a warning saying what the operator can do, and returned. `readers` (the groups that
 * consume each topic) names the groups whose state the operator must drop.
 */
export async function ensureTopics(
  admin: Admin,
  specs: TopicSpec[],
  log: Logger,
  readers: (topic: string) => string[] = () => [],
): Promise<ShortTopic[]> {
  const existing = new Set(await admin.listTopics());
  await admin.createTopics(specs.filter((s) => !existing.has(s.name)));
  const short: ShortTopic[] = [];
  for (const s of specs) {
    if (!existing.has(s.name)) continue;
    const actual = (await admin.describeTopic(s.name)).partitions;
    const configured = s.partitions ?? 1;
    if (actual < configured) short.push({ name: s.name, configured, actual });
  }
  for (const t of short) log.warn(shortTopicMessage(t, readers(t.name)), { ...t, groups: readers(t.name) });
  return short;
}

/** What to tell the operator about a topic with fewer partitions than configured. */
export function shortTopicMessage(t: ShortTopic, groups: string[]): string {
  const reset = groups.length
    ? `, run ${groups.map((g) => `\`lzsync replay --group ${g} --to earliest\``).join(" and ")} (drops ` +
      "their changelog state, rebuilt from the inputs)"
    : "";
  return `topic ${t.name} has ${t.actual} partition(s) but ${t.configured} are configured; lzsync keeps ` +
    `using ${t.actual} and does not add partitions itself: records of a key would move to another ` +
    "partition and the state kept for them would be split between tasks. To use " +
    `${t.configured}: stop lzsync, delete ${t.name} (kafka-topics.sh --delete / rpk topic delete; ` +
    `embedded broker: a new data_dir)${reset}, and start again: the topic is created with ` +
    `${t.configured} partitions and the next Cloud Asset poll rebuilds asset state. Or set ` +
    `broker.partitions (or processors.topics."${t.name}".partitions) to ${t.actual} to silence this.`;
}
