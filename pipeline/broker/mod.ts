/**
 * The broker layer's public entry: the {@link Broker} contract and one factory that opens the broker the
 * config names — `embedded` (in-process, the default for a first run) or `kafka` (kafkajs against Apache
 * Kafka or Redpanda).
 */
import { LzError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Broker } from "./types.ts";
import { createEmbeddedBroker } from "./embedded/mod.ts";
import { createKafkaBroker, type KafkaBrokerOptions } from "./kafka/mod.ts";

export type * from "./types.ts";
export { createEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from "./embedded/mod.ts";
export { createKafkaBroker, type KafkaBroker, type KafkaBrokerOptions } from "./kafka/mod.ts";

/** What {@link createBroker} needs: the `broker` section of the config, plus the data directory and logger. */
export interface BrokerConfig {
  kind: "embedded" | "kafka";
  /** Kafka bootstrap addresses (`host:port`); required for `kafka`. */
  brokers?: string[];
  clientId?: string;
  /** Where the embedded broker persists its log (in memory when absent). */
  dataDir?: string;
  /** Embedded: open `dataDir` without locking or changing it (read-only operator commands). */
  readOnly?: boolean;
  logger?: Logger;
  /** Extra kafkajs tuning for `kafka` (timeouts, retries). */
  kafka?: Omit<KafkaBrokerOptions, "brokers" | "clientId" | "logger">;
}

/**
 * Opens the configured broker. `kafka` checks that the brokers answer (bounded; a bad address rejects
 * with `BROKER_UNAVAILABLE` naming it); `embedded` loads `dataDir` when given.
 */
export function createBroker(cfg: BrokerConfig): Promise<Broker> {
  switch (cfg.kind) {
    case "embedded":
      return createEmbeddedBroker({ dataDir: cfg.dataDir, logger: cfg.logger, readOnly: cfg.readOnly });
    case "kafka":
      if (!cfg.brokers || cfg.brokers.length === 0) {
        return Promise.reject(
          new LzError(
            "CONFIG",
            "broker.kind is kafka but broker.brokers is empty: list host:port addresses in lzsync.yaml",
          ),
        );
      }
      return createKafkaBroker({
        ...(cfg.kafka ?? {}),
        brokers: cfg.brokers,
        clientId: cfg.clientId,
        logger: cfg.logger,
      });
    default:
      return Promise.reject(
        new LzError(
          "CONFIG",
          `broker.kind must be "embedded" or "kafka", got ${JSON.stringify((cfg as { kind: unknown }).kind)}`,
        ),
      );
  }
}
