/**
 * Layer 5 in the gateway: analysts reach the DuckDB tables while the pipeline runs (the file is held by this
 * process, so nothing else can open it).
 * - `GET /api/v1/analytics/queries` (read): the named queries and their parameters;
 * - `GET /api/v1/analytics/query?name=…&days=…&date=…` (read): one named query's rows;
 * - `GET /api/v1/analytics/trends?days=90` (read): the status page's series and forecasts;
 * - `POST /api/v1/analytics/sql` `{"sql": "SELECT …"}` (admin): one read-only statement;
 * - a status-page section with the 90-day trend charts (`/analytics/trends.js` draws them as SVG).
 */
import type { Context, Hono } from "hono";
import type { GatewayContext, GatewayPlugin } from "../../connectors/gateway/plugin.ts";
import { jsonError } from "../../connectors/gateway/json_error.ts";
import { unknownQuery } from "../../connectors/gateway/query.ts";
import { LzError } from "../../pipeline/errors.ts";
import type { AnalyticsReader } from "../../pipeline/analytics/sink.ts";
import { NAMED_QUERIES, queryParams, runNamedQuery, trends } from "./queries.ts";

const FILES: Record<string, [URL, string]> = {
  "trends.js": [new URL("./static/trends.js", import.meta.url), "text/javascript; charset=utf-8"],
  "trends.css": [new URL("./static/trends.css", import.meta.url), "text/css; charset=utf-8"],
};
const MAX_ROWS = 10_000;

function fail(c: Context, err: unknown): Response {
  if (err instanceof LzError) {
    if (err.code === "USAGE") return jsonError(c, 400, "bad_request", err.message);
    if (err.code === "NOT_FOUND") return jsonError(c, 404, "not_found", err.message);
    if (err.code === "NOT_RUNNING") return jsonError(c, 503, "unavailable", err.message);
    if (err.code === "SQL" || err.code === "SQL_NOT_READ_ONLY") {
      return jsonError(c, 400, "bad_request", err.message);
    }
  }
  // DuckDB's own parse and binder errors are about the statement, not the server.
  const msg = (err as Error)?.message ?? String(err);
  if (/(Parser|Binder|Catalog|Conversion) Error/.test(msg)) return jsonError(c, 400, "bad_request", msg);
  return jsonError(c, 500, "internal", msg);
}

/** The analytics plugin over a reader (null while the database is not open). */
export function analyticsPlugin(reader: () => AnalyticsReader | null): GatewayPlugin {
  const get = (): AnalyticsReader => {
    const r = reader();
    if (!r) throw new LzError("NOT_RUNNING", "the analytics database is not open in this process");
    return r;
  };
  const cache = new Map<string, Uint8Array>();
  return {
    name: "analytics",
    routes(app: Hono, ctx: GatewayContext) {
      const now = () => ctx.deps.clock.now();
      for (const [name, [url, type]] of Object.entries(FILES)) {
        app.get(`/analytics/${name}`, () => {
          if (!cache.has(name)) cache.set(name, Deno.readFileSync(url));
          return new Response(cache.get(name)!.slice(), {
            headers: {
              "Content-Type": type,
              "Cache-Control": "no-cache",
              "X-Content-Type-Options": "nosniff",
            },
          });
        });
      }
      app.get("/api/v1/analytics/queries", ctx.requireScope("read"), (c) =>
        unknownQuery(c, []) ?? c.json({
          queries: Object.entries(NAMED_QUERIES).map(([name, q]) => ({
            name,
            description: q.description,
            params: q.params,
          })),
        }));
      app.get("/api/v1/analytics/query", ctx.requireScope("read"), async (c) => {
        const badQuery = unknownQuery(c, ["name", "days", "date"]);
        if (badQuery) return badQuery;
        const name = c.req.query("name");
        if (!name) {
          return jsonError(
            c,
            400,
            "bad_request",
            `name is required; one of ${Object.keys(NAMED_QUERIES).join(", ")}`,
          );
        }
        try {
          const p = queryParams({ days: c.req.query("days"), date: c.req.query("date") }, now());
          const rows = await runNamedQuery(get(), name, p);
          return c.json({
            name,
            params: p,
            rows: rows.slice(0, MAX_ROWS),
            truncated: rows.length > MAX_ROWS,
          });
        } catch (err) {
          return fail(c, err);
        }
      });
      app.get("/api/v1/analytics/trends", ctx.requireScope("read"), async (c) => {
        const badQuery = unknownQuery(c, ["days", "date"]);
        if (badQuery) return badQuery;
        try {
          return c.json(
            await trends(get(), queryParams({ days: c.req.query("days"), date: c.req.query("date") }, now())),
          );
        } catch (err) {
          return fail(c, err);
        }
      });
      app.post("/api/v1/analytics/sql", ctx.requireScope("admin"), async (c) => {
        let sql: unknown;
        try {
          sql = (await c.req.json())?.sql;
        } catch {
          return jsonError(c, 400, "bad_request", 'body must be JSON {"sql": "SELECT ..."}');
        }
        if (typeof sql !== "string" || !sql.trim()) {
          return jsonError(c, 400, "bad_request", "sql must be a non-empty string (one SELECT statement)");
        }
        try {
          const rows = await get().query(sql);
          return c.json({ rows: rows.slice(0, MAX_ROWS), truncated: rows.length > MAX_ROWS });
        } catch (err) {
          return fail(c, err);
        }
      });
    },
    statusSections: [{
      id: "analytics-trends",
      title: "Trends (90 days)",
      order: 150,
      source: "/api/v1/analytics/trends?days=90",
      render: "kv",
      module: "/analytics/trends.js",
      wide: true,
      refreshMs: 60_000,
    }],
  };
}
