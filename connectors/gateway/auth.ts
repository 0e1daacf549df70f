/**
 * Bearer tokens with scopes. Tokens come from the environment variables named in `gateway.tokens[]` and
 * from `LZSYNC_TOKEN` (admin), looked up once through `runtime.secret`. Only SHA-256 digests are kept and
 * compared in constant time against every configured token. With `gateway.anonymous_reads: loopback` (the
 * default) reads are open without a token to this machine's own clients: the gateway is bound to loopback, no
 * `gateway.public_url` names another host, and the request did not come through a proxy — whether or not
 * tokens are configured (a token set for triggers does not close the page). A token never appears in a log,
 * error or metric: answers name the token by its config `name`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { Runtime } from "../../pipeline/config.ts";
import type { Logger } from "../../pipeline/log.ts";
import type { Scope } from "./plugin.ts";

/** A configured token: its name, scopes, and the digest of its value. */
interface TokenEntry {
  name: string;
  scopes: ReadonlySet<Scope>;
  digest: Uint8Array;
  /** The fabric ids the token is restricted to (`gateway.tokens[].fabrics`), null = all. */
  fabrics: ReadonlySet<string> | null;
}

const TOKEN_NAME = "lzsync.token_name";
const TOKEN_FABRICS = "lzsync.token_fabrics";

/**
 * The fabric ids the request's token is restricted to (`gateway.tokens[].fabrics`), or null when it may see
 * and touch every fabric (an unrestricted token, the admin `LZSYNC_TOKEN`, an anonymous read).
 */
export function tokenFabrics(c: Context): ReadonlySet<string> | null {
  return (c.get(TOKEN_FABRICS as never) as ReadonlySet<string> | undefined) ?? null;
}

/**
 * The config name of the token that passed `requireScope` for this request (e.g. `portal`, `LZSYNC_TOKEN`),
 * or null for an anonymous read. For audit records; never the token itself.
 */
export function tokenName(c: Context): string | null {
  return (c.get(TOKEN_NAME as never) as string | undefined) ?? null;
}

const digest = (s: string) => new Uint8Array(createHash("sha256").update(s, "utf8").digest());

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The gateway's token check. */
export class Auth {
  readonly #tokens: TokenEntry[] = [];
  /**
   * True when reads may need no token (`gateway.anonymous_reads`): `always`; `loopback` (default) when bound
   * to loopback and not published under a non-loopback `gateway.public_url`; never with `never`. In `loopback` mode a
   * proxied request (Forwarded / X-Forwarded-For) still needs a token: it may come from anywhere.
   */
  readonly openReads: boolean;
  readonly #mode: "never" | "loopback" | "always";

  /**
   * `limitToken` is asked once a token is identified (the per-token rate limit); its answer, when not null,
   * is sent instead of running the route.
   */
  constructor(
    runtime: Runtime,
    host: string,
    log: Logger,
    readonly limitToken: (c: Context, name: string) => Response | null = () => null,
  ) {
    const admin = runtime.secret("LZSYNC_TOKEN");
    if (admin) {
      this.#tokens.push({
        name: "LZSYNC_TOKEN",
        scopes: new Set(["admin"]),
        digest: digest(admin),
        fabrics: null,
      });
    }
    for (const t of runtime.config.gateway.tokens) {
      const value = runtime.secret(t.token_env);
      if (!value) {
        log.warn("gateway token disabled: its environment variable is not set", {
          name: t.name,
          env: t.token_env,
        });
        continue;
      }
      this.#tokens.push({
        name: t.name,
        scopes: new Set(t.scopes),
        digest: digest(value),
        fabrics: t.fabrics ? new Set(t.fabrics) : null,
      });
    }
    this.#mode = runtime.config.gateway.anonymous_reads;
    this.openReads = this.#mode === "always" ||
      (this.#mode === "loopback" && isLoopback(host) && !published(runtime.config.gateway.public_url));
    if (this.#tokens.length === 0 && !this.openReads) {
      log.warn("gateway is not bound to loopback and has no token: every API request will get 401", {
        host,
        fix: "set LZSYNC_TOKEN or gateway.tokens",
      });
    }
  }

  /** The token entry matching `token`, comparing against all entries in constant time. */
  #identify(token: string): TokenEntry | null {
    const d = digest(token);
    let found: TokenEntry | null = null;
    for (const t of this.#tokens) if (timingSafeEqual(d, t.digest) && !found) found = t;
    return found;
  }

  /**
   * Middleware requiring `scope` (admin implies all). `queryToken` also accepts `?access_token=` (for
   * WebSocket and EventSource clients, which cannot set headers).
   */
  require(scope: Scope, options: { queryToken?: boolean } = {}): MiddlewareHandler {
    return async (c, next) => {
      const header = c.req.header("authorization");
      let token: string | undefined;
      if (header !== undefined) {
        const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
        if (!m) {
          return deny(c, 401, "unauthorized", "expected an Authorization header of the form: Bearer <token>");
        }
        token = m[1];
      } else if (options.queryToken) token = c.req.query("access_token") || undefined;
      if (token === undefined) {
        const viaProxy = this.#mode === "loopback" && proxied(c);
        if (scope === "read" && this.openReads && !viaProxy) return await next();
        const reason = scope === "read" && this.openReads
          ? "this request came through a proxy (Forwarded / X-Forwarded-For) and anonymous reads " +
            "(gateway.anonymous_reads: loopback) are for this machine's own clients: send a token with the read scope"
          : this.#tokens.length
          ? `a bearer token with the "${scope}" scope is required (Authorization: Bearer <token>)`
          : scope !== "read"
          ? `this needs a token with the "${scope}" scope and none is configured: start lzsync with ` +
            "LZSYNC_TOKEN=<secret> (an admin token) and send Authorization: Bearer <secret>"
          : this.#mode === "never"
          ? "reading needs a token (gateway.anonymous_reads: never) and none is configured; set LZSYNC_TOKEN or gateway.tokens"
          : "no token is configured and the gateway is not bound to loopback (or is published at gateway.public_url); " +
            "set LZSYNC_TOKEN or gateway.tokens";
        return deny(c, 401, "unauthorized", reason);
      }
      const entry = this.#identify(token);
      if (!entry) return deny(c, 401, "unauthorized", "unknown token");
      if (!entry.scopes.has(scope) && !entry.scopes.has("admin")) {
        return deny(c, 403, "forbidden", `token "${entry.name}" lacks the "${scope}" scope`);
      }
      const limited = this.limitToken(c, entry.name);
      if (limited) return limited;
      c.set(TOKEN_NAME as never, entry.name as never);
      if (entry.fabrics) c.set(TOKEN_FABRICS as never, entry.fabrics as never);
      await next();
    };
  }
}

/** True when `public_url` names a host other machines reach (a loopback public_url publishes nothing). */
function published(publicUrl: string | undefined): boolean {
  return publicUrl !== undefined && !isLoopback(new URL(publicUrl).hostname);
}

/** True when a proxy forwarded the request: its client may be anywhere. */
function proxied(c: Context): boolean {
  return c.req.header("forwarded") !== undefined || c.req.header("x-forwarded-for") !== undefined;
}

function deny(c: Context, status: 401 | 403, error: string, reason: string): Response {
  const headers: Record<string, string> = status === 401
    ? { "WWW-Authenticate": 'Bearer realm="lzsync"' }
    : {};
  return c.json({ error, reason }, status, headers);
}
