/**
 * The contract every sync layer codes against to plug into the gateway (git sync, assets/policy, fabrics, ...).
 *
 * A plugin declares the topics it wants materialized and streamed, adds REST routes under `/api/v1/...`, and
 * may add sections to the status page — all without editing `connectors/gateway/**`:
 *
 * ```ts
 * export const gitPlugin: GatewayPlugin = {
 *   name: "git",
 *   compactedTopics: ["lz.sync.status.v1", "lz.git.files.v1"],
 *   eventTopics: ["lz.git.push.v1"],
 *   routes(app, ctx) {
 *     app.get("/api/v1/sync/sync-status", ctx.requireScope("read"), (c) =>
 *       c.json({ layers: [...ctx.view<SyncStatus>("lz.sync.status.v1").values()] }));
 *   },
 *   statusSections: [{ id: "files", title: "Tracked files", source: "/api/v1/sync/git", path: "files",
 *     render: "table", columns: [{ key: "path" }, { key: "size", format: "number" }] }],
 * };
 * ```
 *
 * The built-in status page at `/` reads these plugin routes when they exist (404 → the panel says so):
 * - `GET /api/v1/sync/sync-status` → `{ layers: [{ layer, status, last_sync, items_synced, errors, next_sync,
 *   freshness_seconds?, success_rate?, latency_seconds? }] }` (a bare array is accepted too);
 * - `GET /api/v1/sync/git` → `{ commit: { sha, message?, author?, timestamp? } | null, files?: unknown[] }`;
 * - `GET /api/v1/sync/alerts` → `{ alerts: [{ kind, message, layer?, severity?, since? }] }` (open alerts).
 * It refreshes them when live events arrive on `lz.sync.status.v1`, `lz.git.files.v1` or an alerts topic
 * (`lz.alerts.*`).
 *
 * Views are global tables (Kafka Streams terms): every gateway reads the compacted topics of all plugins in
 * full, so any gateway can answer any request. Nothing here may assume a single gateway process.
 */
import type { Hono, MiddlewareHandler } from "hono";
import type { Producer } from "../../pipeline/broker/types.ts";
import type { AppDeps } from "../../pipeline/service.ts";
import type { Logger } from "../../pipeline/log.ts";

/** Token scopes. `admin` implies every other scope. */
export type Scope = "read" | "trigger" | "write" | "admin";

/**
 * One frame sent to live clients (WebSocket `/ws/sync-events`, SSE `/api/v1/events`), serialized as JSON.
 *
 * - `cursor` resumes the stream right after this frame (`?cursor=` on WS, `Last-Event-ID` on SSE).
 * - `type` is the record value's string `type` field when it has one, else the topic name.
 * - `data` is the decoded record value (`null` for a tombstone, i.e. the key was deleted).
 * - `snapshot: true` marks the view contents sent first on connect.
 */
export interface LiveEvent {
  cursor: string;
  topic: string;
  key: string | null;
  type: string;
  data: unknown;
  /** ISO-8601 time of the record (broker timestamp) or of the local publish. */
  ts: string;
  snapshot?: boolean;
}

/** A local (non-broker) event for {@link GatewayContext.publish}: the gateway assigns cursor and time. */
export interface LocalEvent {
  /** One of the plugin's declared `localTopics`, e.g. `lz.sync.progress`. */
  topic: string;
  key: string | null;
  type: string;
  data: unknown;
}

/** Column of a generic status-page table. */
export interface StatusColumn {
  /** Property of each row (dotted paths allowed: `status.score`). */
  key: string;
  label?: string;
  /**
   * `time` ISO → local time; `age` ISO/epoch-ms → "3m ago"; `status` → coloured badge; `percent` 0..1 → %;
   * `sha` → a commit id cut to 12 characters (the full id on hover). `text` (the default) wraps at spaces
   * in narrow cards; every other format stays on one line.
   */
  format?: "text" | "number" | "percent" | "time" | "age" | "status" | "code" | "sha";
}

/**
 * A section a plugin adds to the status page at `/`. The page fetches `source` (same origin, with the page's
 * token) and renders it generically; it re-fetches on `refreshMs` and (debounced) when a live event arrives
 * on one of `refreshOn`. For anything richer, `module` names an ES module the plugin serves itself, whose
 * `export function render(el: HTMLElement, data: unknown): void` is called instead.
 */
export interface StatusSection {
  /** Unique id (DOM id `section-<id>`). */
  id: string;
  title: string;
  /** Lower first; built-in sections use 0–99. Default 100. */
  order?: number;
  /** GET endpoint returning JSON. */
  source: string;
  /** Dotted path into the response to the rows or object to render (e.g. `items`); default the whole body. */
  path?: string;
  /** `table`: array of objects; `kv`: one object; `list`: array of strings/objects; `score`: a number 0..1 or 0..100. */
  render: "table" | "kv" | "list" | "score";
  /**
   * Span the full width of the page's grid instead of one column: for tables with many or long columns
   * (violations, fabrics). Default false. Tables scroll inside their card (both ways) whatever this says.
   */
  wide?: boolean;
  columns?: StatusColumn[];
  refreshOn?: string[];
  refreshMs?: number;
  module?: string;
}

/** What a plugin's routes receive from the gateway. */
export interface GatewayContext {
  deps: AppDeps;
  /** A logger namespaced to the plugin. */
  log: Logger;
  /**
   * The live materialized view of a compacted topic some plugin declared: latest decoded value per key,
   * tombstones removed. The same map is updated in place as records arrive; do not mutate it.
   * Throws if no plugin declared `topic` in `compactedTopics`.
   */
  view<V>(topic: string): ReadonlyMap<string, V>;
  /** Middleware that answers 401 (no/unknown token) or 403 (missing scope) with `{error, reason}` JSON. */
  requireScope(scope: Scope): MiddlewareHandler;
  /** The gateway's shared producer (created on first use, closed by the gateway). */
  producer(): Promise<Producer>;
  /**
   * Fans a local event out to live clients (e.g. progress of a manual sync); not durable, not on the broker,
   * only seen by clients of this gateway process. Throws if `event.topic` is not a declared `localTopics`.
   */
  publish(event: LocalEvent): void;
  /** Base URL (`public_url` or the bound address), e.g. `http://127.0.0.1:8080`. Valid once listening. */
  readonly url: string;
  /** `ws(s)://…/ws/sync-events` for websocket_url answers. Valid once listening. */
  readonly wsUrl: string;
}

/** A sync layer plugged into the gateway. */
export interface GatewayPlugin {
  name: string;
  /** Compacted topics materialized as views (and streamed live, with a snapshot on connect). */
  compactedTopics?: string[];
  /** Event topics streamed live (no view, no snapshot). */
  eventTopics?: string[];
  /**
   * Topics of local events this plugin fans out with {@link GatewayContext.publish} (e.g. `lz.sync.progress`).
   * Clients filter on them like broker topics; they resume only on the same gateway process.
   */
  localTopics?: string[];
  /** Topics its routes produce to (webhook deliveries, triggers), declared for `lzsync describe`. */
  writes?: string[];
  /**
   * Topics whose records belong to fabrics, with how to tell which one from the record key. A token
   * restricted to fabrics (`gateway.tokens[].fabrics`) gets, in live feeds (snapshot, resume and live
   * frames), only the records of these topics that belong to its fabrics. `undefined`: the record belongs to
   * no fabric (every token sees it); `null`: it cannot be told (restricted tokens do not see it).
   */
  fabricTopics?: Record<string, (key: string | null) => string | null | undefined>;
  /**
   * Per topic, a rewrite of each decoded value before the gateway shows it anywhere — views (so REST reads
   * through `ctx.view`), snapshots, live and replayed frames — e.g. to remove secrets that records written
   * by an older version may still hold. Must be pure and cheap; return the value itself when nothing changes.
   */
  redactTopics?: Record<string, (value: unknown) => unknown>;
  /** Registers routes; called once, before the server listens. Use `ctx.requireScope` on every route. */
  routes?(app: Hono, ctx: GatewayContext): void;
  statusSections?: StatusSection[];
  /** Releases anything the plugin's routes hold (timers, clients); called when the gateway stops. */
  close?(): Promise<void> | void;
}
