/**
 * How the pieces of a running lzsync are composed by `pipeline/main.ts`: every connector, processor host and
 * the gateway is a {@link Service}, built from the same {@link AppDeps}. Services start in order and stop in
 * reverse order on SIGINT/SIGTERM.
 */
import type { Registry } from "prom-client";
import type { Broker } from "./broker/types.ts";
import type { Logger } from "./log.ts";
import type { Runtime } from "./config.ts";
import type { Clock } from "./processor/types.ts";

/** The topics a service reads and writes, declared for `lzsync describe` and ARCHITECTURE.md. */
export interface ServiceTopics {
  readonly reads?: readonly string[];
  readonly writes?: readonly string[];
}

/** A long-running part of the pipeline with a start/stop lifecycle. */
export interface Service {
  readonly name: string;
  /** The topics it reads and writes (a connector's declaration; processor hosts take theirs from the topology). */
  readonly topics?: ServiceTopics;
  start(): Promise<void>;
  /** Finishes in-flight work, commits, releases every resource. Idempotent. */
  stop(): Promise<void>;
}

/** What every service is built from. */
export interface AppDeps {
  runtime: Runtime;
  broker: Broker;
  log: Logger;
  /** The one Prometheus registry served at `/metrics`. */
  metrics: Registry;
  clock: Clock;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
