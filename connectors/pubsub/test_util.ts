/**
 * Helpers for the Pub/Sub integration tests and the bench: a topic + subscription on the emulator with unique
 * names, AppDeps over a given broker, and a collector of one topic's records.
 */
import { PubSub } from "@google-cloud/pubsub";
import { Registry } from "prom-client";
import type { Broker, ConsumedRecord } from "../../pipeline/broker/types.ts";
import { resolveConfig } from "../../pipeline/config.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { type AppDeps, systemClock } from "../../pipeline/service.ts";
import { emulatorOptions } from "./subscriber.ts";

/** A topic and a subscription on the emulator. */
export interface EmulatorTopic {
  client: PubSub;
  projectId: string;
  topic: string;
  subscription: string;
  publish(data: string | object, attributes?: Record<string, string>): Promise<string>;
  cleanup(): Promise<void>;
}

/** Creates a uniquely named topic and subscription (ack deadline 10 s, unordered, no dead-letter policy). */
export async function emulatorTopic(host: string, prefix = "lz"): Promise<EmulatorTopic> {
  const projectId = "lzsync-test";
  const client = new PubSub({ projectId, ...emulatorOptions(host) });
  const id = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const [topic] = await client.createTopic(`${id}-events`);
  const [sub] = await topic.createSubscription(`${id}-portal`, { ackDeadlineSeconds: 10 });
  return {
    client,
    projectId,
    topic: topic.name,
    subscription: sub.name.split("/").pop()!,
    publish: (data, attributes) =>
      topic.publishMessage({
        data: new TextEncoder().encode(
          typeof data === "string" ? data : JSON.stringify(data),
        ) as unknown as Buffer,
        attributes,
      }),
    async cleanup() {
      await sub.delete().catch(() => {});
      await topic.delete().catch(() => {});
      await client.close();
    },
  };
}

/** AppDeps for a test over `broker` (silent logs, fresh metrics). */
export function testDeps(broker: Broker): AppDeps {
  return {
    runtime: resolveConfig({}, {}, "test"),
    broker,
    log: silentLogger,
    metrics: new Registry(),
    clock: systemClock,
  };
}

/** Reads `topic` from the beginning into `records` until `stop()`. */
export async function collect(broker: Broker, topic: string) {
  const records: ConsumedRecord[] = [];
  await broker.admin().createTopics([{ name: topic, partitions: 1 }]);
  const reader = broker.reader({ topics: [topic], from: "earliest" });
  await reader.run((b) => Promise.resolve(void records.push(...b.records)));
  return {
    records,
    json: () => records.map((r) => (r.value ? JSON.parse(new TextDecoder().decode(r.value)) : null)),
    stop: () => reader.stop(),
  };
}

/** Polls `cond` every 20 ms until true or `timeoutMs` passes (then throws with `what`). */
export async function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
