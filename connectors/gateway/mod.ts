/**
 * The lzsync gateway: Hono on `Deno.serve`, the one HTTP entry every sync layer plugs into (see
 * `plugin.ts`). It materializes the plugins' compacted topics as global tables, streams them and their
 * event topics to WebSocket/SSE clients with resumable cursors, checks bearer tokens, serves `/metrics`,
 * `/healthz`, `/readyz` (views caught up and the broker reachable) and the status page at `/`.
 *
 * ```ts
 * const gateway = createGateway(deps, [gitPlugin, assetsPlugin]);
 * await gateway.start(); // listening on gateway.url (config gateway.host/port, default 127.0.0.1:8080)
 * ```
 */
import { listenError } from "../../pipeline/port_check.ts";
import type { Hono } from "hono";
import type { Producer } from "../../pipeline/broker/types.ts";
import { describeError, LzError } from "../../pipeline/errors.ts";
import type { AppDeps, Service } from "../../pipeline/service.ts";
import { Auth } from "./auth.ts";
import { BrokerHealth } from "./broker_health.ts";
import { LiveHub } from "./live.ts";
import { gatewayMetrics } from "./metrics.ts";
import type { GatewayContext, GatewayPlugin, StatusSection } from "./plugin.ts";
import { createApp, finishApp } from "./server.ts";
import { abuseGuards } from "./rate_limit.ts";
import { Views } from "./views.ts";

export type {
  GatewayContext,
  GatewayPlugin,
  LiveEvent,
  LocalEvent,
  Scope,
  StatusColumn,
  StatusSection,
} from "./plugin.ts";
export { CONTROL_TOPIC } from "./frames.ts";

/** Tuning knobs (defaults suit production; tests and benches shrink them). */
export interface GatewayOptions {
  /** Most recent frames kept per topic for resumes (default 10,000). */
  ringSize?: number;
  /** Frame bytes kept per topic for resumes (default 16 MiB). */
  ringBytes?: number;
  /** A client over its budget for longer than this is closed (default 30 s). */
  lagTimeoutMs?: number;
  /** SSE heartbeat period (default 15 s). */
  heartbeatMs?: number;
  /** Broker probe for `/readyz` (default every 2 s, failed after 1.5 s without an answer). */
  brokerHealth?: { intervalMs?: number; timeoutMs?: number };
}

/** A running (or startable) gateway. */
export interface Gateway extends Service {
  /** Base URL once started, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly app: Hono;
  readonly hub: LiveHub;
  /** True when every view has caught up with the offsets seen at start. */
  ready(): boolean;
  /** Rate-limit buckets held, by `family/ip` and `family/token` (bounded by `rate_limits.max_clients`). */
  rateLimitBuckets(): Record<string, number>;
}

/** Builds the gateway service from the app's deps and the plugins of every enabled sync layer. */
export function createGateway(
  deps: AppDeps,
  plugins: GatewayPlugin[],
  options: GatewayOptions = {},
): Gateway {
  const cfg = deps.runtime.config.gateway;
  const log = deps.log.child("gateway");
  const metrics = gatewayMetrics(deps.metrics);
  const { compacted, events, locals } = collectTopics(plugins);
  const id = crypto.randomUUID().slice(0, 8);
  const fabricTopics = new Map<string, (key: string | null) => string | null | undefined>();
  for (const p of plugins) for (const [t, f] of Object.entries(p.fabricTopics ?? {})) fabricTopics.set(t, f);
  const redactors = new Map<string, (value: unknown) => unknown>();
  for (const p of plugins) for (const [t, f] of Object.entries(p.redactTopics ?? {})) redactors.set(t, f);
  const redact = redactors.size
    ? (topic: string, value: unknown) => redactors.get(topic)?.(value) ?? value
    : undefined;
  let views: Views | null = null;
  const hub = new LiveHub({
    id,
    budget: cfg.client_buffer_bytes,
    policy: cfg.slow_client_policy,
    ring: { maxCount: options.ringSize ?? 10_000, maxBytes: options.ringBytes ?? 16 * 1024 * 1024 },
    lagTimeoutMs: options.lagTimeoutMs ?? 30_000,
    heartbeatMs: options.heartbeatMs,
    broker: deps.broker,
    log: log.child("live"),
    metrics,
    table: (t) => views?.table(t),
    fabricOf: (topic, key) => fabricTopics.get(topic)?.(key),
    redact,
  });
  views = new Views({
    broker: deps.broker,
    log: log.child("views"),
    metrics,
    hub,
    compacted,
    events,
    partitions: deps.runtime.config.broker.partitions,
    yieldBytes: Math.max(1024, cfg.client_buffer_bytes / 4),
    redact,
  });
  for (const t of locals) hub.addTopic(t, "local", [0]);

  const guards = abuseGuards(cfg, metrics);
  const auth = new Auth(deps.runtime, cfg.host, log, guards.token);
  const sections: StatusSection[] = plugins.flatMap((p) => p.statusSections ?? [])
    .sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
  let url = "";
  let producer: Promise<Producer> | null = null;
  let server: Deno.HttpServer | null = null;
  let started = false;
  const health = new BrokerHealth(deps.broker, log.child("broker"), options.brokerHealth);

  const app = createApp({
    config: cfg,
    log,
    auth,
    guards,
    hub,
    metrics,
    registry: deps.metrics,
    maxBodyBytes: cfg.max_body_bytes,
    budget: cfg.client_buffer_bytes,
    ready: () => {
      const lagging = views!.lagging();
      const b = health.state();
      return {
        ready: started && lagging.length === 0 && b.reachable,
        detail: started ? { lagging, broker: b } : "starting",
      };
    },
    sections: () => sections,
    endOffsets: async (topic) =>
      (await deps.broker.admin().topicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((o) =>
        o.high
      ),
    beforeScrape: () => {
      for (const [topic, n] of views!.sizes()) metrics.viewKeys.set({ topic }, n);
      metrics.ringBytes.set(hub.rings.stats().bytes);
    },
  });
  for (const plugin of plugins) {
    const ctx: GatewayContext = {
      deps,
      log: log.child(plugin.name),
      view: <V>(topic: string) => {
        const table = views!.table(topic);
        if (!table) throw new TypeError(`view(${topic}): no gateway plugin declares it in compactedTopics`);
        return table.values as ReadonlyMap<string, V>;
      },
      requireScope: (scope) => auth.require(scope),
      producer: () => producer ??= deps.broker.producer(),
      publish: (event) => hub.publish(event),
      get url() {
        return cfg.public_url?.replace(/\/+$/, "") ?? url;
      },
      get wsUrl() {
        return `${this.url.replace(/^http/, "ws")}/ws/sync-events`;
      },
    };
    plugin.routes?.(app, ctx);
  }
  finishApp(app, log);

  return {
    name: "gateway",
    app,
    hub,
    get url() {
      return url;
    },
    ready: () => started && views!.ready() && health.state().reachable,
    rateLimitBuckets: () => guards.sizes(),
    async start() {
      if (started) return;
      try {
        await views!.start();
      } catch (err) {
        await views!.stop().catch(() => {});
        throw new LzError(
          "GATEWAY_START",
          `gateway could not read its topics from ${deps.broker.address}: ${
            describeError(err)
          }; is the broker running?`,
          { cause: err, retriable: true },
        );
      }
      hub.start();
      health.start();
      const listening = Promise.withResolvers<Deno.NetAddr>();
      try {
        server = Deno.serve({
          hostname: cfg.host,
          port: cfg.port,
          onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
        }, app.fetch);
      } catch (err) {
        throw listenError(err, cfg.host, cfg.port);
      }
      const addr = await listening.promise;
      const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
      url = `http://${host}:${addr.port}`;
      started = true;
      log.info("gateway listening", { url, plugins: plugins.map((p) => p.name), openReads: auth.openReads });
    },
    async stop() {
      if (!started && !server) return;
      started = false;
      await hub.close();
      await health.stop();
      if (server) await server.shutdown();
      server = null;
      await views!.stop();
      if (producer) await (await producer).close().catch(() => {});
      producer = null;
      for (const p of plugins) await p.close?.();
    },
  };
}

/** The topics the plugins declare, checked for conflicts. */
function collectTopics(plugins: GatewayPlugin[]) {
  const kinds = new Map<string, string>();
  const names = new Set<string>();
  const add = (topic: string, kind: string, plugin: string) => {
    const prev = kinds.get(topic);
    if (prev && prev !== kind) {
      throw new LzError(
        "GATEWAY_PLUGIN",
        `topic ${topic} is declared both ${prev} and ${kind} (plugin ${plugin})`,
      );
    }
    kinds.set(topic, kind);
  };
  for (const p of plugins) {
    if (names.has(p.name)) throw new LzError("GATEWAY_PLUGIN", `two gateway plugins are named ${p.name}`);
    names.add(p.name);
    for (const t of p.compactedTopics ?? []) add(t, "compacted", p.name);
    for (const t of p.eventTopics ?? []) add(t, "event", p.name);
    for (const t of p.localTopics ?? []) add(t, "local", p.name);
  }
  const of = (k: string) => [...kinds].filter(([, v]) => v === k).map(([t]) => t);
  return { compacted: of("compacted"), events: of("event"), locals: of("local") };
}
