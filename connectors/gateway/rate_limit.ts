/**
 * Abuse limits by route family (issue 10, item 5): an optional IP allow-list (`gateway.allow_from`, 403) and
 * token buckets per client IP and per token (`gateway.rate_limits`, 429 with `Retry-After`).
 *
 * Families: `connects` (`/ws/sync-events`, `/api/v1/events`), `webhook` (`/webhooks/…`), `reads` (GET, HEAD,
 * OPTIONS), `trigger` (a POST whose last path segment is `trigger` or `sync`: `/api/v1/sync/trigger`,
 * `/api/v1/fabrics/:id/sync`), `writes` (every other method). `/healthz` and `/readyz` are never limited
 * (orchestrator probes). The IP bucket is taken before authentication (a token guesser is limited too), the
 * token bucket once `Auth` knows the token (a shared token is limited across every address using it).
 *
 * Memory is bounded: each family keeps at most `rate_limits.max_clients` buckets per kind and drops the
 * least recently used beyond it. A client that keeps sending stays among the most recently used: only
 * `max_clients` other addresses between two of its requests would drop (and so refill) its bucket.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Config } from "../../schemas/config.ts";
import { CidrSet, clientKey } from "../../pipeline/cidr.ts";
import { clientIpResolver } from "./client_ip.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { jsonError } from "./json_error.ts";

/** A route family with its own limits and allow-list. */
export type Family = "webhook" | "trigger" | "writes" | "reads" | "connects";

/** Every family, in the order the README documents them. */
export const FAMILIES: readonly Family[] = ["webhook", "trigger", "writes", "reads", "connects"];

const FAMILY = "lzsync.family";

/** The family of a request, or null for the health probes (never limited). */
export function routeFamily(method: string, path: string): Family | null {
  if (path === "/healthz" || path === "/readyz") return null;
  if (path === "/ws/sync-events" || path === "/api/v1/events") return "connects";
  if (path.startsWith("/webhooks/")) return "webhook";
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return "reads";
  if (method === "POST" && /\/(trigger|sync)$/.test(path)) return "trigger";
  return "writes";
}

/**
 * Token buckets keyed by client, at most `max` kept (least recently used dropped first). `take` answers 0
 * when a request may go, else the seconds until one token is back.
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly max: number,
    readonly now: () => number = () => performance.now(),
  ) {}

  /** Buckets held. */
  get size(): number {
    return this.#buckets.size;
  }

  take(key: string): number {
    const now = this.now();
    const b = this.#buckets.get(key);
    let tokens = this.burst;
    if (b) {
      this.#buckets.delete(key);
      tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    }
    const ok = tokens >= 1;
    if (ok) tokens -= 1;
    this.#buckets.set(key, { tokens, at: now });
    // Least recently used first: Map order is insertion order and a taken bucket is re-inserted.
    if (this.#buckets.size > this.max) this.#buckets.delete(this.#buckets.keys().next().value!);
    return ok ? 0 : (1 - tokens) / this.rate;
  }
}

/** What {@link abuseGuards} returns: the middleware and the per-token check `Auth` calls. */
export interface AbuseGuards {
  /** Resolves the client IP, then applies the family's allow-list and IP bucket. */
  middleware: MiddlewareHandler;
  /** Takes from the token's bucket of the request's family; a 429 answer when it is empty. */
  token(c: Context, name: string): Response | null;
  /** Bucket counts (tests): `family/ip` and `family/token`. */
  sizes(): Record<string, number>;
}

/** The allow-list and rate-limit guards of `cfg` (mount after the Host/Origin guards). */
export function abuseGuards(cfg: Config["gateway"], metrics: GatewayMetrics): AbuseGuards {
  const resolve = clientIpResolver(cfg.trusted_proxies);
  const limits = cfg.rate_limits;
  type Limits = { ip: { rate_per_s: number; burst: number }; token?: { rate_per_s: number; burst: number } };
  const limitsOf = (f: Family): Limits => limits[f];
  const buckets = new Map<string, TokenBuckets>();
  for (const f of FAMILIES) {
    for (const [by, b] of Object.entries(limitsOf(f))) {
      if (b.rate_per_s > 0) {
        buckets.set(`${f}/${by}`, new TokenBuckets(b.rate_per_s, b.burst, limits.max_clients));
      }
    }
  }
  const allow = new Map<Family, CidrSet>();
  for (const f of FAMILIES) if (cfg.allow_from[f]?.length) allow.set(f, new CidrSet(cfg.allow_from[f]!));

  const limited = (c: Context, family: Family, by: "ip" | "token", who: string, waitS: number) => {
    metrics.rateLimited.inc({ family, by });
    const retry = Math.max(1, Math.ceil(waitS));
    const { rate_per_s, burst } = limitsOf(family)[by]!;
    c.header("Retry-After", String(retry));
    return jsonError(
      c,
      429,
      "rate_limited",
      `too many ${family} requests from ${who} (gateway.rate_limits.${family}.${by}: ${rate_per_s}/s, burst ${burst}); retry after ${retry} s`,
      { family, retry_after_s: retry },
    );
  };

  return {
    middleware: async (c, next) => {
      const family = routeFamily(c.req.method, c.req.path);
      if (!family) return await next();
      c.set(FAMILY as never, family as never);
      const ip = resolve(c);
      const list = allow.get(family);
      if (list && !(ip && list.has(ip))) {
        metrics.ipRefused.inc({ family });
        await c.req.raw.body?.cancel().catch(() => {});
        return jsonError(
          c,
          403,
          "ip_not_allowed",
          `${ip ?? "this client"} may not send ${family} requests (not in gateway.allow_from.${family})`,
          { family },
        );
      }
      const wait = ip ? buckets.get(`${family}/ip`)?.take(clientKey(ip)) ?? 0 : 0;
      if (wait > 0) {
        await c.req.raw.body?.cancel().catch(() => {});
        return limited(c, family, "ip", ip!, wait);
      }
      await next();
    },
    token(c, name) {
      const family = c.get(FAMILY as never) as Family | undefined;
      if (!family) return null;
      const wait = buckets.get(`${family}/token`)?.take(name) ?? 0;
      return wait > 0 ? limited(c, family, "token", `token "${name}"`, wait) : null;
    },
    sizes: () => Object.fromEntries([...buckets].map(([k, b]) => [k, b.size])),
  };
}
