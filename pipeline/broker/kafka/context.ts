/**
 * What the parts of one Kafka broker (admin, producers, consumers, readers) share: the kafkajs clients, the
 * settings and the shared admin. `kafka/mod.ts` builds it; each part receives it. Types only, so the parts do not
 * import the broker that imports them.
 */
import type { Kafka } from "kafkajs";
import type { Logger } from "../../log.ts";
import type { Admin } from "../types.ts";

/** kafkajs retry settings (same names as kafkajs). */
export interface KafkaRetryOptions {
  /** Attempts after the first (default 5). */
  retries?: number;
  /** First backoff in ms (default 250); doubles each attempt with ±20 % jitter. */
  initialRetryTime?: number;
  /** Cap of one backoff in ms (default 4,000). */
  maxRetryTime?: number;
}

/** The shared admin of one Kafka broker. */
export interface KafkaAdminHandle {
  readonly api: Admin;
  /** Connects (bounded) if not connected yet. */
  ready(): Promise<void>;
  /** Topic names that exist now (internal `__` topics excluded). */
  topicNames(): Promise<Set<string>>;
  /** Partition counts of the topics that exist now. */
  partitionCounts(): Promise<Map<string, number>>;
  /**
   * The effective `max.message.bytes` of each topic (its override, else the broker's `message.max.bytes`):
   * the largest record batch the broker accepts for one of its partitions.
   */
  maxMessageBytes(topics: string[]): Promise<Map<string, number>>;
  /** Deletes a group that has no members (a missing group is fine). */
  deleteGroup(groupId: string): Promise<void>;
  close(): Promise<void>;
}

/** Settings shared by the parts of one Kafka broker (admin, producers, consumers, readers). */
export interface KafkaContext {
  readonly kafka: Kafka;
  /** A kafkajs client with another client id (kafkajs sets it per client, members report it). */
  kafkaFor(clientId: string | undefined): Kafka;
  /** The bootstrap list as one string, for messages. */
  readonly address: string;
  readonly log: Logger;
  readonly clientId: string;
  readonly connectDeadlineMs: number;
  readonly deliveryTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly maxWaitTimeMs: number;
  readonly partitionsConsumedConcurrently: number;
  readonly retry: Required<KafkaRetryOptions>;
  /** The shared admin (connected lazily, closed with the broker). */
  admin(): KafkaAdminHandle;
  /** Runs `connect()` of a kafkajs client with a deadline; failures become a clear LzError. */
  connect(what: string, connect: () => Promise<void>, disconnect: () => Promise<void>): Promise<void>;
  track(c: { stop(): Promise<void> }): void;
  untrack(c: { stop(): Promise<void> }): void;
}
