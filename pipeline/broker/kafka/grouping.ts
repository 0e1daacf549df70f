/**
 * Linear partition grouping for kafkajs sends. kafkajs 2.2.4 groups each send's messages per partition in
 * `producer/groupMessagesPerPartition.js` with
 * `messages.reduce((result, message) => Object.assign(result, { [p]: [...(result[p] || []), message] }), {})`:
 * the partition's array is copied for every message, so the cost is quadratic in a partition's messages per
 * send (a 2,000-record send to one partition copies ~2 million array elements). {@link linearGrouping} gives
 * a messages array its own `reduce`, which calls kafkajs's step on each message alone (so kafkajs's
 * partitioner runs — and throws — exactly as before) and appends that message to the partition's accumulated
 * array: the same grouping (the same partition keys, each array in input order) in linear time.
 *
 * It is used only while kafkajs's grouping has the source shape it was written against
 * ({@link groupingShapeProblem}, checked once; kafka/private_test.ts pins it). Otherwise sends use kafkajs's
 * own grouping: slower, the same result.
 *
 * @module
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** kafkajs's own grouping function (the module instance its producer uses). */
export function kafkajsGrouping(): (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
}) => Record<string, unknown[]> {
  return require("kafkajs/src/producer/groupMessagesPerPartition.js");
}

/**
 * What differs in kafkajs's grouping from the shape {@link linearGrouping} is written for (one
 * `messages.reduce(step, {})` whose step adds one message to `result[partition]`), or null when nothing does.
 */
export function groupingShapeProblem(load: () => unknown = kafkajsGrouping): string | null {
  let src: string;
  try {
    const f = load();
    if (typeof f !== "function") return "kafkajs's groupMessagesPerPartition is not a function";
    src = Function.prototype.toString.call(f);
  } catch (err) {
    return `kafkajs's groupMessagesPerPartition cannot be loaded (${(err as Error).message})`;
  }
  const want = ["messages.reduce((result, message) =>", "[...current, message]", "}, {})"];
  const missing = want.filter((w) => !src.includes(w));
  return missing.length ? `kafkajs's groupMessagesPerPartition changed: no ${missing.join(", ")}` : null;
}

type Step<M> = (result: Record<string, M[]>, message: M) => Record<string, M[]>;

/** The `reduce` of a grouped messages array: kafkajs's step on one message at a time, appended. */
function reduceLinear<M>(this: M[], step: Step<M>, init: Record<string, M[]>): Record<string, M[]> {
  const acc = init;
  for (let i = 0; i < this.length; i++) {
    const one = step({}, this[i]);
    for (const k in one) {
      const l = acc[k];
      if (l === undefined) acc[k] = one[k];
      else for (const m of one[k]) l.push(m);
    }
  }
  return acc;
}

/** True when kafkajs's grouping has the expected shape (checked on first use). */
let enabled: boolean | undefined;

/**
 * Gives `messages` (an array this process built for a kafkajs send, used for nothing else) the linear
 * grouping, when kafkajs's grouping has the expected shape; returns it.
 */
export function linearGrouping<M>(messages: M[]): M[] {
  enabled ??= groupingShapeProblem() === null;
  if (enabled) {
    Object.defineProperty(messages, "reduce", { value: reduceLinear, configurable: true, writable: true });
  }
  return messages;
}
