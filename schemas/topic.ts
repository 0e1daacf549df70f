/**
 * One declaration per topic value. A {@link TopicDef} holds the TypeBox schema (which *is* JSON Schema), and
 * from it come the TypeScript type (`Static<typeof schema>`), the runtime validator (`pipeline/serde.ts`) and
 * the analytics table schemas. Never write a topic's shape twice.
 */
import type { Static, TSchema } from "@sinclair/typebox";

/** A topic and the shape of its values. */
export interface TopicDef<S extends TSchema = TSchema> {
  /** `lz.<domain>.<what>.v<N>` */
  name: string;
  schema: S;
  /** `cleanup.policy=compact`: the latest value per key is the state; `null` values are tombstones. */
  compacted: boolean;
  /**
   * The partition count when nothing is configured. For a {@link TopicDef.keyed} topic `broker.partitions`
   * (and `processors.topics`) replaces it; otherwise only a `processors.topics` override does.
   */
  partitions: number;
  /**
   * True when consumers keep state partitioned by the record key (Kafka Streams tasks), so the topic scales
   * with `broker.partitions`: every producer partitions it by the key's murmur2 hash (Kafka's default
   * partitioner, on both brokers). Absent: the count is fixed by the declaration.
   */
  keyed?: boolean;
  /** What the record key is, for humans and docs. */
  key: string;
  description: string;
}

/** The value type of a topic. */
export type ValueOf<T extends TopicDef> = Static<T["schema"]>;

/** Declares a topic (identity function that keeps the schema's static type). */
export function defineTopic<S extends TSchema>(def: TopicDef<S>): TopicDef<S> {
  if (!/^lz\.[a-z0-9_]+(\.[a-z0-9_]+)*\.v[0-9]+$/.test(def.name)) {
    throw new Error(`topic name ${def.name} does not follow lz.<domain>.<what>.v<N>`);
  }
  return def;
}
