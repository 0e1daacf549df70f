/**
 * Whether the gateway can reach its broker, for `/readyz`: a probe (a metadata round trip,
 * `admin().listTopics()`) every `intervalMs`, failed when it errors or does not answer within `timeoutMs`.
 * A probe still running when the next is due is not doubled. The embedded broker always answers.
 */
import type { Broker } from "../../pipeline/broker/types.ts";
import type { Logger } from "../../pipeline/log.ts";
import { describeError } from "../../pipeline/errors.ts";

/** What `/readyz` shows of the broker. */
export interface BrokerState {
  reachable: boolean;
  address: string;
  /** Why the last probe failed. */
  error?: string;
  /** Since when the broker is unreachable (ISO time). */
  since?: string;
}

/** Probes a broker on a timer; {@link state} is the last result. */
export class BrokerHealth {
  readonly #broker: Broker;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  #state: BrokerState;
  #timer: ReturnType<typeof setInterval> | null = null;
  #inflight: Promise<void> | null = null;

  constructor(broker: Broker, log: Logger, o: { intervalMs?: number; timeoutMs?: number } = {}) {
    this.#broker = broker;
    this.#log = log;
    this.#intervalMs = o.intervalMs ?? 2_000;
    this.#timeoutMs = o.timeoutMs ?? 1_500;
    this.#state = { reachable: true, address: broker.address };
  }

  /** The last probe's result. */
  state(): BrokerState {
    return this.#state;
  }

  /** Starts probing (the first probe at once). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#probe(), this.#intervalMs);
    this.#probe();
  }

  /** Stops probing and waits for a probe in flight. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#inflight;
  }

  #probe(): void {
    if (this.#inflight) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(
        () => rej(new Error(`no answer from ${this.#broker.address} within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    this.#inflight = Promise.race([this.#broker.admin().listTopics(), timeout])
      .then(() => {
        if (!this.#state.reachable) {
          this.#log.info("broker reachable again", { broker: this.#broker.address });
        }
        this.#state = { reachable: true, address: this.#broker.address };
      }, (err) => {
        const error = describeError(err);
        if (this.#state.reachable) {
          this.#log.warn("broker unreachable: not ready", { broker: this.#broker.address, error });
        }
        this.#state = {
          reachable: false,
          address: this.#broker.address,
          error,
          since: this.#state.since ?? new Date().toISOString(),
        };
      })
      .finally(() => {
        clearTimeout(timer);
        this.#inflight = null;
      });
  }
}
