/**
 * Test helpers for anything that plugs into the gateway (git sync, assets, fabrics) and for the gateway's
 * own tests and bench: a gateway on an embedded broker (or a given one) on port 0, a producer shortcut,
 * WebSocket/SSE frame collectors, and a headless Chromium.
 *
 * ```ts
 * const t = await startTestGateway({ plugins: [gitPlugin] });
 * const ws = await LiveClient.open(t.wsUrl, { topic: "lz.sync.status.v1" });
 * await t.produce("lz.sync.status.v1", "git", { ... });
 * await ws.waitFor((f) => f.key === "git");
 * await ws.close(); await t.stop();
 * ```
 */
import { Registry } from "prom-client";
import type { Broker, RecordMetadata } from "../../pipeline/broker/types.ts";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { resolveConfig, type Runtime } from "../../pipeline/config.ts";
import { createLogger, type Logger, silentLogger } from "../../pipeline/log.ts";
import { encode } from "../../pipeline/serde.ts";
import { CHROMIUM_ARGS } from "../../pipeline/testing/chromium.ts";
import { requireChromium } from "../../pipeline/testing/env.ts";
import { type AppDeps, systemClock } from "../../pipeline/service.ts";
import { createGateway, type Gateway, type GatewayOptions } from "./mod.ts";
import type { GatewayPlugin, LiveEvent } from "./plugin.ts";

export { type RawFrame, RawWsClient } from "./testing_raw_ws.ts";
import { type LiveQuery, liveQuery } from "./testing_live_query.ts";
export { type LiveQuery, liveQuery } from "./testing_live_query.ts";
export { type RawAnswer, rawHttp } from "./testing_raw_http.ts";

/** A started gateway and what a test needs around it. */
export interface TestGateway {
  gateway: Gateway;
  deps: AppDeps;
  broker: Broker;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>/ws/sync-events` */
  wsUrl: string;
  /** Produces one record (validated against `schemas/` when the topic is declared there). */
  produce(topic: string, key: string | null, value: unknown, partition?: number): Promise<RecordMetadata>;
  /** Resolves once `/readyz` is 200 (views caught up). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Stops the gateway, then the broker if the helper created it. */
  stop(): Promise<void>;
}

/** Options of {@link startTestGateway}. */
export interface TestGatewayOptions {
  plugins?: GatewayPlugin[];
  /** Raw `lzsync.yaml` sections merged over `{ gateway: { port: 0 } }`. */
  config?: Record<string, unknown>;
  /** Environment visible to `runtime.secret` (tokens, webhook secrets). */
  env?: Record<string, string>;
  /** Use this broker (not closed by `stop`); default: a fresh in-memory embedded broker. */
  broker?: Broker;
  options?: GatewayOptions;
  /** Log to stderr at this level (default: silent). */
  logLevel?: "debug" | "info" | "warn" | "error";
  /** Use this logger (overrides `logLevel`). */
  log?: Logger;
}

/** Starts a gateway on 127.0.0.1, port 0, and waits until it is ready. */
export async function startTestGateway(o: TestGatewayOptions = {}): Promise<TestGateway> {
  const raw = { ...(o.config ?? {}) } as Record<string, Record<string, unknown>>;
  raw.gateway = { host: "127.0.0.1", port: 0, ...(raw.gateway ?? {}) };
  // The gateway tests' own (undeclared) topics are spread over 3 partitions, the former default.
  raw.broker = { partitions: 3, ...(raw.broker ?? {}) };
  const runtime: Runtime = resolveConfig(raw, o.env ?? {}, "test");
  const ownBroker = !o.broker;
  const broker = o.broker ?? await createEmbeddedBroker();
  const deps: AppDeps = {
    runtime,
    broker,
    log: o.log ?? (o.logLevel ? createLogger({ level: o.logLevel }) : silentLogger),
    metrics: new Registry(),
    clock: systemClock,
  };
  const gateway = createGateway(deps, o.plugins ?? [], o.options);
  let producer: Awaited<ReturnType<Broker["producer"]>> | null = null;
  try {
    await gateway.start();
  } catch (err) {
    if (ownBroker) await broker.close();
    throw err;
  }
  const t: TestGateway = {
    gateway,
    deps,
    broker,
    url: gateway.url,
    wsUrl: `${gateway.url.replace(/^http/, "ws")}/ws/sync-events`,
    async produce(topic, key, value, partition) {
      producer ??= await broker.producer();
      const [md] = await producer.send(topic, [{ key, value: encode(topic, value), partition }]);
      return md;
    },
    async waitReady(timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        const res = await fetch(`${gateway.url}/readyz`);
        await res.body?.cancel();
        if (res.status === 200) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`gateway not ready after ${timeoutMs} ms`);
    },
    async stop() {
      await gateway.stop();
      if (producer) await producer.close();
      if (ownBroker) await broker.close();
    },
  };
  try {
    await t.waitReady();
  } catch (err) {
    await t.stop();
    throw err;
  }
  return t;
}

/** A WebSocket client of `/ws/sync-events` that collects every frame. */
export class LiveClient {
  readonly frames: LiveEvent[] = [];
  readonly closed: Promise<CloseEvent>;
  #waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.addEventListener("close", (e) => resolve(e), { once: true }));
    ws.addEventListener("message", (m) => {
      this.frames.push(JSON.parse(m.data as string));
      for (const w of this.#waiters) w();
    });
    this.closed.then(() => {
      for (const w of this.#waiters) w();
    });
  }

  /** Opens a connection and waits until it is open. */
  static async open(wsUrl: string, q: LiveQuery = {}): Promise<LiveClient> {
    const ws = new WebSocket(wsUrl + liveQuery(q));
    const c = new LiveClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot open ${wsUrl}`)), { once: true });
    });
    return c;
  }

  /** Frames that are not control frames or snapshot frames. */
  live(): LiveEvent[] {
    return this.frames.filter((f) => !f.snapshot && f.topic !== "~gateway");
  }

  /** Cursor of the last frame received. */
  lastCursor(): string | undefined {
    return this.frames.at(-1)?.cursor;
  }

  /** Waits until `pred` holds for some frame (returns it) or for the whole list when `count` is given. */
  async waitFor(pred: (f: LiveEvent) => boolean, timeoutMs = 5_000, count = 1): Promise<LiveEvent[]> {
    const end = Date.now() + timeoutMs;
    while (true) {
      const hits = this.frames.filter(pred);
      if (hits.length >= count) return hits;
      const left = end - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${count} frame(s); got ${this.frames.length}: ${
            JSON.stringify(this.frames.slice(-5))
          }`,
        );
      }
      await new Promise<void>((resolve) => {
        const waiters = this.#waiters;
        const done = () => {
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, left);
        waiters.add(done);
      });
    }
  }

  /** Closes and waits for the close handshake. */
  async close(): Promise<CloseEvent> {
    if (this.ws.readyState < WebSocket.CLOSING) this.ws.close(1000);
    return await this.closed;
  }
}

/** An SSE connection to `/api/v1/events` (see {@link openSse}). */
export interface SseClient {
  status: number;
  response: Response;
  frames: { id: string; data: LiveEvent }[];
  /** Starts reading (when opened with `paused`). */
  resume(): void;
  /** Resolves when the server ended the stream (or `stop()` aborted it). */
  ended: Promise<void>;
  stop(): Promise<void>;
}

/** Reads SSE frames from `/api/v1/events`; with `paused`, reads nothing until `resume()` (a slow client). */
export async function openSse(
  url: string,
  headers: Record<string, string> = {},
  options: { paused?: boolean } = {},
): Promise<SseClient> {
  const ac = new AbortController();
  const response = await fetch(url, { headers, signal: ac.signal });
  const frames: { id: string; data: LiveEvent }[] = [];
  const go = Promise.withResolvers<void>();
  if (!options.paused) go.resolve();
  const pump = (async () => {
    await go.promise;
    if (!response.ok || !response.body || ac.signal.aborted) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id !== undefined && data !== undefined) frames.push({ id, data: JSON.parse(data) });
        }
      }
    } catch { /* aborted */ }
  })();
  return {
    status: response.status,
    frames,
    response,
    resume: () => go.resolve(),
    ended: pump,
    async stop() {
      ac.abort();
      go.resolve();
      await pump;
      if (!response.bodyUsed) await response.body?.cancel().catch(() => {});
    },
  };
}

/**
 * Launches Debian's headless Chromium through playwright-core (the path `deno task test` provides; see
 * `pipeline/testing/chromium.ts`). Close the browser in a `finally`.
 */
export async function launchChromium(): Promise<import("playwright-core").Browser> {
  const { chromium } = await import("playwright-core");
  return await chromium.launch({ executablePath: requireChromium(), args: CHROMIUM_ARGS, headless: true });
}
