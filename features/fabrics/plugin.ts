/**
 * The fabrics API in the gateway. Reads come from the compacted FGD topics (views, so any gateway answers
 * them); writes go to the {@link FabricManager} of this process.
 *
 * - `GET    /api/v1/fabrics` (read): every fabric with its status
 * - `POST   /api/v1/fabrics` (admin): register `{id, repo?, branch?, path, credential?, crd_dirs?, rule_packs?, kubernetes?: {api_url, credential?}}` → 201 `{fabric, sync_id, status_url, websocket_url}`; 400 `invalid_path` when `path` is not a clean relative directory (`..`, `.`, `.git`, absolute); 400 `invalid_credential` for `credential_env`/`token_env` (never accepted over the API) or a credential not in the config's `credentials` or not allowed on that host
 * - `GET    /api/v1/fabrics/:id` (read): status — counts (managed, unmanaged, drafts, conflicts, drift), last commit, last run, last error
 * - `DELETE /api/v1/fabrics/:id` (admin): remove lzsync's state of the fabric (never the repo)
 * - `POST   /api/v1/fabrics/:id/sync` (trigger): run ingestion now → 202 `{sync_id, status_url, websocket_url}`; progress frames on the WebSocket, topic `lz.fgd.progress.v1` (`?topic=lz.fgd.progress` still accepted), key = sync id
 * - `GET    /api/v1/fabrics/:id/objects[?kind=&state=draft|conflict|drift]` (read): objects with desired/draft/actual state
 * - `GET    /api/v1/fabrics/:id/objects/:kind/:name` (read): one object (both versions when conflicted)
 * - `PUT    /api/v1/fabrics/:id/objects/:kind/:name[?draft=true]` (write): edit (JSON or YAML body; `If-Match: "<hash>"` = the version edited) → 200 committed, 202 draft saved, 409 conflict, 422 findings
 * - `DELETE /api/v1/fabrics/:id/objects/:kind/:name` (write): delete from `managed/` (same rules)
 * - `DELETE /api/v1/fabrics/:id/drafts/:kind/:name` (write): discard a draft
 * - `GET    /api/v1/fabrics/:id/unmanaged` (read): files in `unmanaged/` with their findings, and
 *   `invalid_managed`: files under `managed/` that do not validate (kept in place, out of the desired state)
 * - `GET    /api/v1/fabrics/:id/findings` (read): every finding of the fabric, one row each (invalid files
 *   under `managed/`, files in `unmanaged/`, warnings on managed objects); `GET /api/v1/fabric-findings`:
 *   the same across the fabrics the token may read (the status page's "Fabric findings" section)
 *
 * A token restricted to fabrics (`gateway.tokens[].fabrics`) lists only its fabrics, and any route naming
 * another fabric (read or write, registration included) answers 403 `forbidden`, whether that fabric exists
 * or not; in live feeds it gets only its fabrics' records of the `lz.fgd.*` topics (and of the audit topic's
 * fabric writes) — see `fabricTopics` below.
 */
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { parseDuration } from "../../pipeline/config.ts";
import { redactStrings } from "../../pipeline/redact.ts";
import { LzError, ValidationError } from "../../pipeline/errors.ts";
import type { GatewayContext, GatewayPlugin } from "../../connectors/gateway/plugin.ts";
import { jsonError } from "../../connectors/gateway/json_error.ts";
import { unknownQuery } from "../../connectors/gateway/query.ts";
import { tokenFabrics, tokenName } from "../../connectors/gateway/auth.ts";
import { auditRecord, produceAudit } from "../audit/record.ts";
import { AUDIT_TOPIC } from "../../schemas/audit.ts";
import {
  type FabricObject,
  type FabricRegistration,
  type FabricStatus,
  FGD_FABRICS_TOPIC,
  FGD_OBJECTS_TOPIC,
  FGD_RESULTS_TOPIC,
  FGD_STATUS_TOPIC,
  FGD_UNMANAGED_TOPIC,
  type UnmanagedFile,
} from "../../schemas/fgd.ts";
import type { FabricManager } from "./manager.ts";
import { fabricFindings } from "./findings.ts";
import type { EditRequest } from "./worker_edit.ts";
import { BodyPool } from "./body_pool.ts";

/** Local topic of progress frames (`ctx.publish`). */
export const FGD_PROGRESS = "lz.fgd.progress.v1";

/** A body refused by the bounded parser: its answer. */
class BodyRefused extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(error);
  }
}

/** Reads and parses a write body in the pool (never on the event loop); throws BodyRefused. */
async function readBody(c: Context, pool: BodyPool): Promise<unknown> {
  const text = await c.req.text();
  const o = await pool.parse(text, c.req.header("content-type") ?? "");
  if (o.ok) return o.value;
  const refused = new BodyRefused(
    o.status,
    o.error,
    o.status === 503 ? { "Retry-After": String((o as { retryAfter: number }).retryAfter) } : {},
  );
  refused.message = o.reason;
  throw refused;
}

function errorResponse(c: Context, err: unknown): Response {
  if (err instanceof BodyRefused) {
    return c.json({ error: err.error, reason: err.message }, err.status as 400, err.headers);
  }
  if (err instanceof ValidationError) {
    return jsonError(c, 422, "invalid", err.message, { issues: err.issues });
  }
  if (err instanceof LzError) {
    const status = err.code === "CONFLICT"
      ? 409
      : err.code === "NOT_FOUND"
      ? 404
      : err.code === "NOT_READY"
      ? 503
      : err.code === "INVALID_PATH" || err.code === "INVALID_CREDENTIAL"
      ? 400
      : 500;
    return jsonError(c, status, err.code.toLowerCase(), err.message);
  }
  return jsonError(c, 400, "bad_request", (err as Error).message);
}

/** The fabric of a progress key (`fgd-<fabric>-<8 hex>`, see `FabricWorker.trigger`). */
function progressFabric(key: string | null): string | null {
  return key ? /^fgd-(.+)-[0-9a-f]{8}$/.exec(key)?.[1] ?? null : null;
}

/** The fabric a record key of each `lz.fgd.*` topic belongs to (keys: `schemas/fgd.ts`). */
const FABRIC_TOPICS: Record<string, (key: string | null) => string | null | undefined> = {
  [FGD_FABRICS_TOPIC.name]: (k) => k,
  [FGD_STATUS_TOPIC.name]: (k) => k,
  [FGD_RESULTS_TOPIC.name]: (k) => k,
  [FGD_OBJECTS_TOPIC.name]: (k) => k?.split("/", 1)[0] ?? null,
  [FGD_UNMANAGED_TOPIC.name]: (k) => k?.split(":", 1)[0] ?? null,
  [FGD_PROGRESS]: progressFabric,
  // Fabric writes and runs are audited as `fabric:<id>:<uuid>` / `fabric_sync:<id>:<sync>`; other audit
  // records belong to no fabric.
  [AUDIT_TOPIC.name]: (k) => /^fabric(_sync)?:/.test(k ?? "") ? k!.split(":")[1] : undefined,
};

/** The FGD gateway plugin bound to a manager. */
export function fabricsPlugin(
  manager: FabricManager,
): GatewayPlugin & { bodyParseTimings(): readonly number[] } {
  let pool: BodyPool | null = null;
  return {
    /** Durations (ms) of the latest body parses in the worker pool (tests, bench). */
    bodyParseTimings: () => pool?.timings ?? [],
    name: "fgd",
    writes: [AUDIT_TOPIC.name],
    compactedTopics: [
      FGD_FABRICS_TOPIC.name,
      FGD_STATUS_TOPIC.name,
      FGD_OBJECTS_TOPIC.name,
      FGD_UNMANAGED_TOPIC.name,
      AUDIT_TOPIC.name, // fabric writes are audited there
    ],
    eventTopics: [FGD_RESULTS_TOPIC.name],
    localTopics: [FGD_PROGRESS],
    fabricTopics: FABRIC_TOPICS,
    // Records stored before URLs with credentials were refused may still hold one (the manager rewrites
    // its own registrations at start; older records stay on the log until compaction): never shown.
    redactTopics: {
      [FGD_FABRICS_TOPIC.name]: redactStrings,
      [FGD_STATUS_TOPIC.name]: redactStrings,
      [FGD_RESULTS_TOPIC.name]: redactStrings,
    },
    close() {
      pool?.close();
      pool = null;
    },
    routes(app: Hono, ctx: GatewayContext) {
      const gw = ctx.deps.runtime.config.gateway;
      const bodies = pool = new BodyPool({
        workers: gw.parse_workers,
        maxQueued: gw.parse_queue,
        timeoutMs: parseDuration(gw.parse_timeout),
        limits: { maxNodes: gw.max_yaml_nodes, maxDepth: gw.max_yaml_depth, maxAliases: gw.max_yaml_aliases },
        registry: ctx.deps.metrics,
      });
      manager.progressSink = (p) =>
        ctx.publish({ topic: FGD_PROGRESS, key: p.sync_id, type: p.phase, data: p });
      /** One `fabric_write` audit record per accepted or refused write request, naming the token. */
      const audit = async (
        c: Context,
        fabric: string,
        what: string,
        status: number,
        f: {
          sync_id?: string;
          commit?: string | null;
          target?: string | null;
          error?: string | null;
          outcome?: "ok" | "unchanged" | "failed";
        },
      ) => {
        const at = new Date(ctx.deps.clock.now()).toISOString();
        await produceAudit(await ctx.producer(), [auditRecord({
          id: `fabric:${fabric}:${crypto.randomUUID()}`,
          kind: "fabric_write",
          at,
          trigger: "api",
          token_name: tokenName(c),
          subject: fabric,
          outcome: f.outcome ?? "ok",
          sync_id: f.sync_id ?? null,
          commit: f.commit ?? null,
          error: f.error ?? null,
          target: f.target ?? null,
          message: `${what} → HTTP ${status}`,
        })], ctx.log);
      };
      /** True when the request's token may see and touch fabric `id`. */
      const mayUse = (c: Context, id: string) => tokenFabrics(c)?.has(id) ?? true;
      const forbid = (c: Context, id: string) =>
        jsonError(
          c,
          403,
          "forbidden",
          `token "${tokenName(c)}" is restricted to fabric${tokenFabrics(c)!.size > 1 ? "s" : ""} ${
            [...tokenFabrics(c)!].sort().join(", ")
          }; ${id} is not one of them`,
        );
      /** After `requireScope`: 403 for a fabric the token is not restricted to (writes are audited). */
      const ownFabric = async (c: Context, next: () => Promise<void>) => {
        const id = c.req.param("id") ?? "";
        if (mayUse(c, id)) return await next();
        if (c.req.method !== "GET") {
          await audit(c, id, `${c.req.method} ${c.req.path}`, 403, {
            outcome: "failed",
            error: "token not restricted to this fabric",
          });
        }
        return forbid(c, id);
      };
      const statuses = () => ctx.view<FabricStatus>(FGD_STATUS_TOPIC.name);
      const objects = () => ctx.view<FabricObject>(FGD_OBJECTS_TOPIC.name);
      const known = (id: string) => statuses().has(id) || manager.workers.has(id);
      const links = (id: string, syncId: string) => ({
        sync_id: syncId,
        status_url: `${ctx.url}/api/v1/fabrics/${id}`,
        websocket_url: `${ctx.wsUrl}?topic=${FGD_PROGRESS}&key=${encodeURIComponent(syncId)}`,
      });

      // Query parameters each fabrics route takes; any other is a 400 naming it (a typo such as
      // ?stat=draft would otherwise answer as if no filter were asked).
      const takes = (c: Context): readonly string[] => {
        const p = c.req.path;
        if (/^\/api\/v1\/fabrics\/[^/]+\/objects$/.test(p)) return ["kind", "state"];
        if (/^\/api\/v1\/fabrics\/[^/]+\/(objects|drafts)\/[^/]+\/[^/]+$/.test(p)) {
          return c.req.method === "GET" ? ["namespace"] : ["namespace", "draft"];
        }
        return [];
      };
      app.use("/api/v1/fabrics", async (c, next) => unknownQuery(c, takes(c)) ?? await next());
      app.use("/api/v1/fabrics/*", async (c, next) => unknownQuery(c, takes(c)) ?? await next());

      app.get("/api/v1/fabrics", ctx.requireScope("read"), (c) => {
        const regs = ctx.view<FabricRegistration>(FGD_FABRICS_TOPIC.name);
        const ids = new Set([...statuses().keys(), ...manager.workers.keys()].filter((id) => mayUse(c, id)));
        const fabrics = [...ids].sort().map((id) => {
          const s = statuses().get(id);
          const w = manager.workers.get(id);
          return s ??
            { id, source: w?.reg.source ?? regs.get(id)?.source, state: "registered", counts: null };
        });
        return c.json({ fabrics });
      });

      const maxObject = ctx.deps.runtime.config.gateway.max_object_bytes;
      const objectLimit = bodyLimit({
        maxSize: maxObject,
        onError: (c) =>
          jsonError(
            c,
            413,
            "payload_too_large",
            `an object or fabric body may be at most ${maxObject} bytes (gateway.max_object_bytes)`,
          ),
      });
      app.post("/api/v1/fabrics", ctx.requireScope("admin"), objectLimit, async (c) => {
        try {
          const input = await readBody(c, bodies);
          const asked = (input as { id?: unknown } | null)?.id;
          if (tokenFabrics(c) && !mayUse(c, String(asked))) {
            await audit(c, String(asked), "register", 403, {
              outcome: "failed",
              error: "token not restricted to this fabric",
            });
            return forbid(c, String(asked));
          }
          const { fabric, syncId } = await manager.register(input);
          await audit(c, fabric.id, "register", 201, { sync_id: syncId, target: fabric.path ?? null });
          return c.json({ fabric, ...links(fabric.id, syncId) }, 201);
        } catch (err) {
          return errorResponse(c, err);
        }
      });

      app.get("/api/v1/fabrics/:id", ctx.requireScope("read"), ownFabric, (c) => {
        const id = c.req.param("id");
        const s = statuses().get(id);
        if (s) return c.json(s);
        if (manager.workers.has(id)) return c.json({ id, state: "registered", counts: null }, 200);
        return jsonError(c, 404, "not_found", `fabric ${id} is not registered`);
      });

      app.delete("/api/v1/fabrics/:id", ctx.requireScope("admin"), ownFabric, async (c) => {
        try {
          await manager.unregister(c.req.param("id"));
          await audit(c, c.req.param("id"), "unregister", 200, {});
          return c.json({ deleted: c.req.param("id"), repository: "untouched" });
        } catch (err) {
          return errorResponse(c, err);
        }
      });

      app.post("/api/v1/fabrics/:id/sync", ctx.requireScope("trigger"), ownFabric, (c) => {
        const id = c.req.param("id");
        const w = manager.workers.get(id);
        if (!w) return jsonError(c, 404, "not_found", `fabric ${id} is not registered here`);
        const { syncId } = w.trigger("api");
        return c.json(links(id, syncId), 202);
      });

      app.get("/api/v1/fabrics/:id/objects", ctx.requireScope("read"), ownFabric, (c) => {
        const id = c.req.param("id");
        if (!known(id)) return jsonError(c, 404, "not_found", `fabric ${id} is not registered`);
        const kind = c.req.query("kind")?.toLowerCase();
        const state = c.req.query("state");
        if (state && !["draft", "conflict", "drift"].includes(state)) {
          return jsonError(
            c,
            400,
            "bad_request",
            `state=${state} is not valid; use draft, conflict or drift`,
          );
        }
        const prefix = `${id}/`;
        const items = [...objects().entries()].filter(([k, o]) =>
          k.startsWith(prefix) &&
          (!kind || o.plural === kind || o.kind.toLowerCase() === kind) &&
          (!state || (state === "draft"
            ? !!o.draft
            : state === "conflict"
            ? !!o.conflict
            : ["differs", "missing", "extra"].includes(o.drift)))
        ).map(([, o]) => o).sort((a, b) => a.path.localeCompare(b.path));
        return c.json({ fabric: id, count: items.length, objects: items });
      });

      app.get("/api/v1/fabrics/:id/objects/:kind/:name", ctx.requireScope("read"), ownFabric, (c) => {
        const { id, kind, name } = c.req.param();
        const k = kind.toLowerCase();
        const ns = c.req.query("namespace");
        const found = [...objects().values()].find((o) =>
          o.fabric === id && o.name === name && (o.plural === k || o.kind.toLowerCase() === k) &&
          (!ns || o.namespace === ns)
        );
        if (!found) return jsonError(c, 404, "not_found", `${kind}/${name} is not in fabric ${id}`);
        return c.json(found);
      });

      const edit = (op: EditRequest["op"]) => async (c: Context) => {
        const { id, kind, name } = c.req.param();
        const w = manager.workers.get(id);
        if (!w) return jsonError(c, 404, "not_found", `fabric ${id} is not registered here`);
        let body: unknown;
        if (op === "put") {
          try {
            body = await readBody(c, bodies);
          } catch (err) {
            return errorResponse(c, err);
          }
        }
        const ifMatch = c.req.header("if-match")?.replace(/^W\//, "").replace(/^"|"$/g, "");
        const res = await w.edit({
          op,
          kind,
          name,
          namespace: c.req.query("namespace"),
          body,
          ifMatch,
          draftOnly: c.req.query("draft") === "true",
          author: c.req.header("x-lzsync-author") ?? "portal",
        });
        const b = res.body as { commit?: string | null; unchanged?: boolean; reason?: string; path?: string };
        await audit(c, id, `${op} ${kind}/${name}`, res.status, {
          commit: b.commit ?? null,
          target: b.path ?? `${kind}/${name}`,
          error: res.status >= 300 ? b.reason ?? `HTTP ${res.status}` : null,
          outcome: res.status >= 300 ? "failed" : b.unchanged ? "unchanged" : "ok",
        });
        return c.json(res.body, res.status as 200);
      };
      app.put(
        "/api/v1/fabrics/:id/objects/:kind/:name",
        ctx.requireScope("write"),
        ownFabric,
        objectLimit,
        edit("put"),
      );
      app.delete(
        "/api/v1/fabrics/:id/objects/:kind/:name",
        ctx.requireScope("write"),
        ownFabric,
        edit("delete"),
      );
      app.delete(
        "/api/v1/fabrics/:id/drafts/:kind/:name",
        ctx.requireScope("write"),
        ownFabric,
        edit("discard"),
      );

      app.get("/api/v1/fabrics/:id/unmanaged", ctx.requireScope("read"), ownFabric, (c) => {
        const id = c.req.param("id");
        if (!known(id)) return jsonError(c, 404, "not_found", `fabric ${id} is not registered`);
        const files = [...ctx.view<UnmanagedFile>(FGD_UNMANAGED_TOPIC.name).values()]
          .filter((u) => u.fabric === id)
          .sort((a, b) => a.path.localeCompare(b.path));
        // Files under managed/ that do not validate are not in unmanaged/ (lzsync leaves them in place), but
        // they are out of the desired state just the same: listed here too, so this answer is never "0" for
        // a fabric that lost objects to invalid files.
        const invalid = statuses().get(id)?.invalid_managed ?? [];
        return c.json({ fabric: id, count: files.length, files, invalid_managed: invalid });
      });

      const findingsOf = (id: string) =>
        fabricFindings(
          id,
          statuses().get(id),
          ctx.view<UnmanagedFile>(FGD_UNMANAGED_TOPIC.name).values(),
          objects().values(),
        );
      app.get("/api/v1/fabrics/:id/findings", ctx.requireScope("read"), ownFabric, (c) => {
        const id = c.req.param("id");
        if (!known(id)) return jsonError(c, 404, "not_found", `fabric ${id} is not registered`);
        const rows = findingsOf(id);
        return c.json({ fabric: id, count: rows.length, findings: rows });
      });
      app.get("/api/v1/fabric-findings", ctx.requireScope("read"), (c) => {
        const ids = [...new Set([...statuses().keys(), ...manager.workers.keys()])].filter((id) =>
          mayUse(c, id)
        )
          .sort();
        const rows = ids.flatMap(findingsOf);
        const limit = 500;
        return c.json({
          count: rows.length,
          truncated: rows.length > limit,
          findings: rows.slice(0, limit),
        });
      });
    },
    statusSections: [{
      id: "fabrics",
      title: "Fabric GitOps directories",
      order: 60,
      source: "/api/v1/fabrics",
      path: "fabrics",
      render: "table",
      wide: true,
      columns: [
        { key: "id", label: "Fabric" },
        { key: "state", label: "State", format: "status" },
        { key: "counts.managed", label: "Managed", format: "number" },
        { key: "counts.unmanaged", label: "Unmanaged", format: "number" },
        { key: "counts.invalid_managed", label: "Invalid in managed/", format: "number" },
        { key: "counts.drafts", label: "Drafts", format: "number" },
        { key: "counts.conflicts", label: "Conflicts", format: "number" },
        { key: "counts.drift", label: "Drift", format: "number" },
        { key: "last_commit", label: "Last commit", format: "sha" },
        { key: "last_run.finished_at", label: "Last run", format: "age" },
        { key: "last_error", label: "Last error" },
      ],
      refreshOn: [FGD_STATUS_TOPIC.name],
    }, {
      id: "fabric-findings",
      title: "Fabric findings",
      order: 61,
      source: "/api/v1/fabric-findings",
      path: "findings",
      render: "table",
      wide: true,
      columns: [
        { key: "fabric", label: "Fabric" },
        { key: "file", label: "File" },
        { key: "state", label: "State" },
        { key: "severity", label: "Severity", format: "status" },
        { key: "rule", label: "Rule" },
        { key: "field", label: "Field" },
        { key: "message", label: "Finding" },
      ],
      refreshOn: [FGD_STATUS_TOPIC.name, FGD_UNMANAGED_TOPIC.name],
    }],
  };
}
