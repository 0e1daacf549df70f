/**
 * A bounded pool of worker threads that parse write bodies (`body_parse.ts`), so a slow or hostile body never
 * blocks the gateway's event loop: health checks, live clients and other requests keep their latency.
 *
 * - At most `workers` parses run at once (one per worker); at most `maxQueued` wait. A body beyond that is
 *   answered 503 with `Retry-After` without being parsed.
 * - A parse longer than `timeoutMs` terminates its worker (a new one starts on the next job) and answers
 *   413 `too_complex`.
 * - Workers start on first use and stay; {@link BodyPool.close} terminates them.
 * - Each parse's duration is observed on `lzsync_gateway_body_parse_seconds` (outcome ok/refused/timeout).
 */
import { Histogram, type Registry } from "prom-client";
import type { BodyLimits, BodyOutcome } from "./body_parse.ts";
import type { BodyJob } from "./body_worker.ts";

/** Options of {@link BodyPool}. */
export interface BodyPoolOptions {
  workers: number;
  maxQueued: number;
  timeoutMs: number;
  limits: BodyLimits;
  registry?: Registry;
}

/** A pool outcome: the parse outcome, or 503 when the pool is full. */
export type PoolOutcome =
  | BodyOutcome
  | { ok: false; status: 503; error: string; reason: string; retryAfter: number };

interface Pending {
  id: number;
  text: string;
  contentType: string;
  resolve(o: PoolOutcome): void;
}

interface Slot {
  worker: Worker | null;
  job: Pending | null;
  timer: ReturnType<typeof setTimeout> | null;
  started: number;
}

const histograms = new WeakMap<Registry, Histogram<"outcome">>();

function histogram(registry: Registry): Histogram<"outcome"> {
  let h = histograms.get(registry);
  if (!h) {
    h = new Histogram({
      name: "lzsync_gateway_body_parse_seconds",
      help: "Time to parse an object/fabric write body in a parser worker, by outcome (ok, refused, timeout)",
      labelNames: ["outcome"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    histograms.set(registry, h);
  }
  return h;
}

/** The pool (see the module doc). */
export class BodyPool {
  readonly #o: BodyPoolOptions;
  readonly #slots: Slot[];
  readonly #queue: Pending[] = [];
  readonly #hist: Histogram<"outcome"> | null;
  #next = 1;
  #closed = false;
  /** Durations (ms, measured inside the worker) of the most recent parses, newest last (at most 1,000). */
  readonly timings: number[] = [];

  constructor(o: BodyPoolOptions) {
    this.#o = o;
    this.#slots = Array.from({ length: Math.max(1, o.workers) }, () => ({
      worker: null,
      job: null,
      timer: null,
      started: 0,
    }));
    this.#hist = o.registry ? histogram(o.registry) : null;
  }

  /** Parses `text` in a worker (JSON when `contentType` names JSON, else YAML). */
  parse(text: string, contentType: string): Promise<PoolOutcome> {
    if (this.#closed) return Promise.resolve(this.#busy("the gateway is stopping"));
    const busy = this.#slots.every((s) => s.job !== null);
    if (busy && this.#queue.length >= this.#o.maxQueued) {
      return Promise.resolve(
        this.#busy(`${this.#slots.length} bodies are being parsed and ${this.#queue.length} are waiting`),
      );
    }
    return new Promise((resolve) => {
      this.#queue.push({ id: this.#next++, text, contentType, resolve });
      this.#dispatch();
    });
  }

  /** Terminates the workers; waiting parses are answered 503. */
  close(): void {
    this.#closed = true;
    for (const p of this.#queue.splice(0)) p.resolve(this.#busy("the gateway is stopping"));
    for (const s of this.#slots) {
      if (s.timer) clearTimeout(s.timer);
      s.job?.resolve(this.#busy("the gateway is stopping"));
      s.job = null;
      s.worker?.terminate();
      s.worker = null;
    }
  }

  #busy(why: string): PoolOutcome {
    return {
      ok: false,
      status: 503,
      error: "busy",
      reason: `too many write bodies at once (${why}); retry shortly`,
      retryAfter: 1,
    };
  }

  #dispatch(): void {
    for (const s of this.#slots) {
      if (s.job || this.#queue.length === 0) continue;
      const job = this.#queue.shift()!;
      s.job = job;
      s.started = performance.now();
      const w = s.worker ??= this.#spawn(s);
      s.timer = setTimeout(() => this.#timeout(s), this.#o.timeoutMs);
      const msg: BodyJob = {
        id: job.id,
        text: job.text,
        contentType: job.contentType,
        limits: this.#o.limits,
      };
      w.postMessage(msg);
    }
  }

  #spawn(s: Slot): Worker {
    const w = new Worker(new URL("./body_worker.ts", import.meta.url).href, { type: "module" });
    w.onmessage = (e: MessageEvent<{ id: number; outcome: BodyOutcome; ms: number }>) => {
      const job = s.job;
      if (!job || job.id !== e.data.id) return;
      this.#record(e.data.ms, e.data.outcome.ok ? "ok" : "refused");
      this.#finish(s, e.data.outcome);
    };
    w.onerror = (e) => {
      e.preventDefault();
      w.terminate();
      if (s.worker === w) s.worker = null;
      this.#finish(s, {
        ok: false,
        status: 413,
        error: "too_complex",
        reason: `the body could not be parsed (the parser failed: ${e.message})`,
      });
    };
    return w;
  }

  #timeout(s: Slot): void {
    s.timer = null;
    s.worker?.terminate();
    s.worker = null;
    this.#record(performance.now() - s.started, "timeout");
    this.#finish(s, {
      ok: false,
      status: 413,
      error: "too_complex",
      reason: `the body took longer than ${this.#o.timeoutMs} ms to parse; send a smaller or simpler object`,
    });
  }

  #record(ms: number, outcome: string): void {
    this.timings.push(ms);
    if (this.timings.length > 1000) this.timings.shift();
    this.#hist?.observe({ outcome }, ms / 1000);
  }

  #finish(s: Slot, o: PoolOutcome): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    const job = s.job;
    s.job = null;
    job?.resolve(o);
    if (!this.#closed) this.#dispatch();
  }
}
