/**
 * The gateway's Prometheus metrics, registered in the app's one registry (`deps.metrics`). Metrics are
 * looked up before they are created, so two gateways sharing a registry (tests, benches) share them too.
 * No label ever carries a token, a query string or a raw path: HTTP routes are the matched route patterns.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Every metric the gateway updates. */
export interface GatewayMetrics {
  clients: Gauge<"transport">;
  framesSent: Counter<string>;
  framesDropped: Counter<string>;
  slowClientActions: Counter<"policy">;
  httpRequests: Counter<"route" | "method" | "status">;
  httpSeconds: Histogram<"route" | "method">;
  decodeErrors: Counter<"topic">;
  catchUps: Counter<"source">;
  viewKeys: Gauge<"topic">;
  ringBytes: Gauge<string>;
  rateLimited: Counter<"family" | "by">;
  ipRefused: Counter<"family">;
}

/** Registers (or finds) the gateway metrics in `registry`. */
export function gatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  return {
    clients: getOrCreate(registry, "lzsync_gateway_clients", () =>
      new Gauge({
        name: "lzsync_gateway_clients",
        help: "Connected live-feed clients",
        labelNames: ["transport"],
        registers,
      })),
    framesSent: getOrCreate(registry, "lzsync_gateway_frames_sent_total", () =>
      new Counter({
        name: "lzsync_gateway_frames_sent_total",
        help: "Live-feed frames handed to client connections",
        registers,
      })),
    framesDropped: getOrCreate(registry, "lzsync_gateway_frames_dropped_total", () =>
      new Counter({
        name: "lzsync_gateway_frames_dropped_total",
        help: "Live frames not sent to a client over its send budget (replayed later under drop-and-resync)",
        registers,
      })),
    slowClientActions: getOrCreate(registry, "lzsync_gateway_slow_client_actions_total", () =>
      new Counter({
        name: "lzsync_gateway_slow_client_actions_total",
        help: "Times a client exceeded gateway.client_buffer_bytes, by the policy applied",
        labelNames: ["policy"],
        registers,
      })),
    httpRequests: getOrCreate(registry, "lzsync_http_requests_total", () =>
      new Counter({
        name: "lzsync_http_requests_total",
        help: "HTTP requests by matched route and status",
        labelNames: ["route", "method", "status"],
        registers,
      })),
    httpSeconds: getOrCreate(registry, "lzsync_http_request_seconds", () =>
      new Histogram({
        name: "lzsync_http_request_seconds",
        help: "HTTP request handling time (until the response head) by matched route",
        labelNames: ["route", "method"],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
        registers,
      })),
    decodeErrors: getOrCreate(registry, "lzsync_gateway_decode_errors_total", () =>
      new Counter({
        name: "lzsync_gateway_decode_errors_total",
        help: "Records the gateway skipped because they do not decode against their topic schema",
        labelNames: ["topic"],
        registers,
      })),
    catchUps: getOrCreate(registry, "lzsync_gateway_catchup_reads_total", () =>
      new Counter({
        name: "lzsync_gateway_catchup_reads_total",
        help:
          "Client connects/resumes served, by source: snapshot (views), ring (memory) or broker (gap read)",
        labelNames: ["source"],
        registers,
      })),
    viewKeys: getOrCreate(registry, "lzsync_gateway_view_keys", () =>
      new Gauge({
        name: "lzsync_gateway_view_keys",
        help: "Keys held in each materialized view",
        labelNames: ["topic"],
        registers,
      })),
    ringBytes: getOrCreate(registry, "lzsync_gateway_ring_bytes", () =>
      new Gauge({
        name: "lzsync_gateway_ring_bytes",
        help: "Frame bytes (UTF-16 code units) held in the resume rings",
        registers,
      })),
    rateLimited: getOrCreate(registry, "lzsync_gateway_rate_limited_total", () =>
      new Counter({
        name: "lzsync_gateway_rate_limited_total",
        help:
          "Requests answered 429 by route family (gateway.rate_limits), by the bucket that ran out: ip or token",
        labelNames: ["family", "by"],
        registers,
      })),
    ipRefused: getOrCreate(registry, "lzsync_gateway_ip_refused_total", () =>
      new Counter({
        name: "lzsync_gateway_ip_refused_total",
        help: "Requests answered 403 because the client IP is not in gateway.allow_from.<family>",
        labelNames: ["family"],
        registers,
      })),
  };
}
