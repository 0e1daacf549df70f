/**
 * The Hono app: request metrics, Host/Origin guards and CORS (`origin.ts`), IP allow-list and rate limits
 * (`rate_limit.ts`), body limit, JSON errors (400/401/403/404/405/413/500, never a stack trace),
 * health and readiness, `/metrics`, the live feed endpoints (WebSocket and SSE), the status page, and the
 * plugins' routes.
 */
import { unknownQuery } from "./query.ts";
import { jsonError } from "./json_error.ts";
import { cursorBeyondEnd } from "./cursor_check.ts";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { bodyLimit } from "hono/body-limit";
import { methodNotAllowed } from "hono/method-not-allowed";
import { matchedRoutes } from "hono/route";
import type { Context } from "hono";
import { describeError, LzError, ValidationError } from "../../pipeline/errors.ts";
import type { Logger } from "../../pipeline/log.ts";
import type { Registry } from "prom-client";
import { type Auth, tokenFabrics } from "./auth.ts";
import { type Cursor, decodeCursor } from "./cursor.ts";
import type { LiveHub } from "./live.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { SseSink, WsSink } from "./sinks.ts";
import { serveStatic } from "./static.ts";
import type { StatusSection } from "./plugin.ts";
import { originGuards } from "./origin.ts";
import type { AbuseGuards } from "./rate_limit.ts";
import type { Config } from "../../schemas/config.ts";

/** What the app is built from. */
export interface AppParts {
  /** `gateway` section of the config (Host/Origin guards, CORS). */
  config: Config["gateway"];
  log: Logger;
  auth: Auth;
  /** IP allow-list and rate limits by route family (`rate_limit.ts`). */
  guards: AbuseGuards;
  hub: LiveHub;
  metrics: GatewayMetrics;
  registry: Registry;
  maxBodyBytes: number;
  budget: number;
  ready(): { ready: boolean; detail: unknown };
  sections(): StatusSection[];
  /** Called just before the registry is scraped (gauges computed on demand). */
  beforeScrape(): void;
  /** The broker's end offset of each partition of `topic` (to refuse cursors past the end). */
  endOffsets?(topic: string): Promise<number[]>;
}

/** Builds the app with the gateway's own routes; plugins add theirs before {@link finishApp}. */
export function createApp(p: AppParts): Hono {
  const app = new Hono();
  app.use("*", async (c, next) => {
    const t0 = performance.now();
    await next();
    const route = matchedRoutes(c).filter((r) => r.method !== "ALL").at(-1)?.path ?? "unmatched";
    const method = c.req.method;
    p.metrics.httpRequests.inc({ route, method, status: String(c.res.status) });
    p.metrics.httpSeconds.observe({ route, method }, (performance.now() - t0) / 1000);
  });
  for (const guard of originGuards(p.config)) app.use("*", guard);
  app.use("*", p.guards.middleware);
  app.use(
    "*",
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        c.json(
          {
            error: "method_not_allowed",
            reason: `${c.req.method} is not allowed here; use ${methods.join(", ")}`,
          },
          405,
          { Allow: methods.join(", ") },
        ),
    }),
  );
  app.use(
    "*",
    bodyLimit({
      maxSize: p.maxBodyBytes,
      onError: (c) =>
        jsonError(
          c,
          413,
          "payload_too_large",
          `request body exceeds ${p.maxBodyBytes} bytes (gateway.max_body_bytes)`,
        ),
    }),
  );

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    const r = p.ready();
    return c.json({ status: r.ready ? "ready" : "not_ready", detail: r.detail }, r.ready ? 200 : 503);
  });
  app.get("/metrics", p.auth.require("read"), async (c) => {
    p.beforeScrape();
    return c.body(await p.registry.metrics(), 200, { "Content-Type": p.registry.contentType });
  });
  app.get("/api/v1/gateway", p.auth.require("read"), (c) =>
    c.json({
      id: p.hub.id,
      ready: p.ready().ready,
      topics: p.hub.topics().map((name) => ({ name, kind: p.hub.kind(name) })),
      sections: p.sections(),
    }));

  app.get("/ws/sync-events", p.auth.require("read", { queryToken: true }), async (c) => {
    if ((c.req.header("upgrade") ?? "").toLowerCase() !== "websocket") {
      return jsonError(
        c,
        426,
        "upgrade_required",
        "this endpoint speaks WebSocket; use GET /api/v1/events for SSE",
      );
    }
    const spec = await clientSpec(c, p, c.req.query("cursor"));
    if (spec instanceof Response) return spec;
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, { idleTimeout: 60 });
    const sink = new WsSink(socket);
    let client: ReturnType<LiveHub["attach"]> | null = null;
    socket.onopen = () => {
      client = p.hub.attach(sink, spec);
    };
    socket.onclose = () => {
      if (client) p.hub.detach(client);
    };
    socket.onerror = () => {};
    return response;
  });

  app.get("/api/v1/events", p.auth.require("read", { queryToken: true }), async (c) => {
    const spec = await clientSpec(c, p, c.req.header("last-event-id") || c.req.query("cursor"));
    if (spec instanceof Response) return spec;
    let client: ReturnType<LiveHub["attach"]> | null = null;
    const sink = new SseSink(p.budget, () => {
      if (client) p.hub.detach(client);
    });
    client = p.hub.attach(sink, spec);
    return new Response(sink.stream, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-transform",
        "X-Accel-Buffering": "no",
      },
    });
  });

  serveStatic(app);
  return app;
}

/** Adds the 404 and error handlers (after the plugins' routes). */
export function finishApp(app: Hono, log: Logger): void {
  app.notFound((c) => jsonError(c, 404, "not_found", `no route for ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      const status = err.status;
      return jsonError(
        c,
        status,
        status === 413 ? "payload_too_large" : "http_error",
        err.message || "request refused",
      );
    }
    if (err instanceof ValidationError) {
      return jsonError(c, 400, "bad_request", err.message, { issues: err.issues });
    }
    if (err instanceof LzError && err.retriable) {
      log.warn("request failed on a retriable error", {
        path: c.req.path,
        code: err.code,
        error: describeError(err),
      });
      return jsonError(c, 503, "unavailable", `${err.code}: temporarily unavailable; retry later`);
    }
    const id = crypto.randomUUID();
    log.error("request failed", {
      id,
      method: c.req.method,
      path: c.req.path,
      error: describeError(err),
      stack: (err as Error)?.stack,
    });
    return jsonError(c, 500, "internal", `internal error (id ${id}); see the gateway log`);
  });
}

/** Topics renamed to the `lz.<domain>.<what>.v<N>` shape: the old name in `?topic=` still subscribes. */
export const RENAMED_TOPICS: Readonly<Record<string, string>> = { "lz.fgd.progress": "lz.fgd.progress.v1" };

/** Parses `?topic=a,b&key=k&key=k2` and the resume cursor; a 400 answer when they are bad. */
async function clientSpec(c: Context, p: AppParts, cursorText: string | undefined) {
  const hub = p.hub;
  const bad = unknownQuery(c, ["topic", "key", "cursor", "snapshot", "access_token"]);
  if (bad) return bad;
  const known = hub.topics();
  const asked = (c.req.queries("topic") ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(
    Boolean,
  ).map((t) => RENAMED_TOPICS[t] ?? t);
  const unknown = asked.filter((t) => !hub.kind(t));
  if (unknown.length) {
    return jsonError(
      c,
      400,
      "bad_request",
      `unknown topic ${unknown.join(", ")}; known topics: ${known.join(", ")}`,
    );
  }
  const keys = c.req.queries("key") ?? null;
  let cursor: Cursor | null = null;
  if (cursorText) {
    try {
      cursor = decodeCursor(cursorText);
    } catch (err) {
      return jsonError(c, 400, "bad_request", (err as Error).message);
    }
    const beyond = p.endOffsets ? await cursorBeyondEnd(cursor, hub, p.endOffsets) : null;
    if (beyond) return jsonError(c, 400, "bad_request", beyond);
  }
  const snapshot = !["0", "false", "no"].includes((c.req.query("snapshot") ?? "").toLowerCase());
  return {
    topics: asked.length ? [...new Set(asked)] : known,
    keys: keys?.length ? keys : null,
    cursor,
    snapshot,
    fabrics: tokenFabrics(c),
  };
}
