/**
 * Which browsers may talk to the gateway. Two guards and CORS, before any route:
 *
 * - **Host** (DNS rebinding): a page on `evil.example` whose name is re-pointed at 127.0.0.1 reaches a
 *   loopback gateway with `Host: evil.example`. Only IP literals (a rebound page never has one), `localhost`
 *   and `*.localhost`, the bind host, `gateway.public_url`'s host and `gateway.allowed_hosts` are answered;
 *   anything else gets 403 `host_not_allowed`.
 * - **Origin**: a request carrying an `Origin` (browsers send it on WebSocket handshakes, cross-origin
 *   fetches and EventSource, and every POST/PUT/DELETE) must come from the gateway's own origin or one in
 *   `gateway.allowed_origins`; else 403 `origin_not_allowed`. `Origin: null` is foreign. Requests without an
 *   `Origin` are not from a web page's script (curl, GitHub, services) and pass.
 * - **CORS** for the allow-listed origins only, echoing the origin (never `*`), no credentials (tokens are
 *   bearer headers, not cookies).
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { Config } from "../../schemas/config.ts";
import { jsonError } from "./json_error.ts";

type GatewayConfig = Config["gateway"];

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The host name of a `Host` header value (port and brackets kept for IPv6, trailing dot dropped). */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  const name = h.startsWith("[") ? h.slice(0, h.indexOf("]") + 1) : h.replace(/:\d*$/, "");
  return name.replace(/\.$/, "");
}

/** True when `host` (a `Host` header value) is one the gateway answers to under `cfg`. */
export function hostAllowed(cfg: GatewayConfig, host: string): boolean {
  const name = hostName(host);
  if (!name) return false;
  if (IPV4.test(name) || (name.startsWith("[") && name.endsWith("]"))) return true;
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (name === hostName(cfg.host)) return true;
  if (cfg.public_url && name === new URL(cfg.public_url).hostname.toLowerCase()) return true;
  return cfg.allowed_hosts.some((a) => {
    const p = a.toLowerCase();
    return p === "*" || p === name || (p.startsWith(".") && (name.endsWith(p) || name === p.slice(1)));
  });
}

/** The normalized origin of `text` (`scheme://host[:port]`), or null when it is not an http(s) origin. */
function originOf(text: string): URL | null {
  try {
    const u = new URL(text);
    return u.protocol === "http:" || u.protocol === "https:" ? u : null;
  } catch {
    return null;
  }
}

/** True when `origin` may call the gateway reached as `host` (same origin or allow-listed). */
export function originAllowed(cfg: GatewayConfig, origin: string, host: string | undefined): boolean {
  const o = originOf(origin);
  if (!o) return false;
  if (host && o.host === new URL(`${o.protocol}//${host}`).host) return true;
  if (cfg.public_url && o.origin === new URL(cfg.public_url).origin) return true;
  return cfg.allowed_origins.some((a) => originOf(a)?.origin === o.origin);
}

/** The Host guard, the Origin guard and CORS, in that order (mount before every route). */
export function originGuards(cfg: GatewayConfig): MiddlewareHandler[] {
  const hostGuard: MiddlewareHandler = async (c, next) => {
    const host = c.req.header("host");
    if (host !== undefined && !hostAllowed(cfg, host)) {
      return jsonError(
        c,
        403,
        "host_not_allowed",
        `this gateway does not answer to Host "${
          hostName(host).slice(0, 253)
        }" (a DNS-rebinding guard); add the name to gateway.allowed_hosts or set gateway.public_url`,
      );
    }
    await next();
  };
  const originGuard: MiddlewareHandler = async (c, next) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && !originAllowed(cfg, origin, c.req.header("host"))) {
      return jsonError(
        c,
        403,
        "origin_not_allowed",
        `a page from origin ${
          JSON.stringify(origin.slice(0, 200))
        } may not call this gateway; add it to gateway.allowed_origins`,
      );
    }
    await next();
  };
  const allowed = new Set(cfg.allowed_origins.map((a) => originOf(a)!.origin));
  const corsGuard = cors({
    origin: (origin) => allowed.has(originOf(origin)?.origin ?? "") ? origin : null,
    allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    allowHeaders: ["Authorization", "Content-Type", "If-Match", "Last-Event-ID"],
    exposeHeaders: ["ETag", "Retry-After"],
    maxAge: 600,
  });
  const corsWhenListed: MiddlewareHandler = async (c, next) => {
    if (allowed.size && c.req.header("origin")) return await corsGuard(c, next);
    await next();
  };
  return [hostGuard, originGuard, corsWhenListed];
}
