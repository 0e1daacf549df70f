/**
 * Helpers for the Pub/Sub integration tests and the bench: a topic + subscription on the emulator with unique
 * names and a collector of one topic's records.
 */
import { Buffer } from "node:buffer";
import { PubSub } from "@google-cloud/pubsub";
import type { Broker, ConsumedRecord } from "../../pipeline/broker/types.ts";
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
    // A Node Buffer, not a Uint8Array: the client deep-walks every request for `{{projectId}}` tokens
    // (@google-cloud/projectify) and skips Buffers only — a Uint8Array's bytes are visited one by one (about
    // 1 ms of the event loop per message in the Pub/Sub latency bench, which publishes from the process it
    // measures).
    publish: (data, attributes) =>
      topic.publishMessage({
        data: Buffer.from(typeof data === "string" ? data : JSON.stringify(data)),
        attributes,
      }),
    async cleanup() {
      await sub.delete().catch(() => {});
      await topic.delete().catch(() => {});
      await client.close();
    },
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
