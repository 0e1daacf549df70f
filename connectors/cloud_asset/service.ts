/**
 * The API sync layer as a {@link Service}: polls Cloud Asset Inventory (or loads an export file) at start and
 * every `layers.api.interval`, writes each poll as a snapshot, reports every attempt on `lz.sync.events.v1`
 * (layer `api`) so sync status shows its freshness, and routes bad export lines to `lz.dlq.v1`.
 */
import { Counter, type Registry } from "prom-client";
import type { Producer } from "../../pipeline/broker/types.ts";
import type { AppDeps, Service } from "../../pipeline/service.ts";
import { describeError } from "../../pipeline/errors.ts";
import { encode } from "../../pipeline/serde.ts";
import { ASSET_SNAPSHOTS_TOPIC } from "../../schemas/assets.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";
import type { TopicDef } from "../../schemas/topic.ts";
import { type AssetLister, createAssetLister } from "./client.ts";
import { type BackoffOptions, sleep } from "./backoff.ts";
import { pollAssets } from "./poll.ts";
import { type ExportLineError, loadExportFile } from "./export_file.ts";
import { producerSink } from "./snapshot_writer.ts";

/** Where the snapshots come from. */
export type AssetSourceSpec =
  | { kind: "api"; parent: string; apiEndpoint?: string; authClient?: unknown; lister?: AssetLister }
  | { kind: "export"; path: string; parent?: string };

/** Options of {@link createCloudAssetService}. */
export interface CloudAssetServiceOptions {
  source: AssetSourceSpec;
  assetTypes: string[];
  intervalMs: number;
  pageSize?: number;
  backoff?: Omit<BackoffOptions, "signal">;
  /** Largest accepted asset in an export file (default 4 MiB; beyond it the line goes to the DLQ). */
  maxAssetBytes?: number;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function utf8Base64(text: string): string {
  let s = "";
  for (const b of new TextEncoder().encode(text)) s += String.fromCharCode(b);
  return btoa(s);
}

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Creates topics this source writes to (the broker leaves existing ones alone). */
export async function ensureTopics(deps: AppDeps, defs: TopicDef[]): Promise<void> {
  await deps.broker.admin().createTopics(
    defs.map((d) => ({ name: d.name, partitions: d.partitions, compacted: d.compacted })),
  );
}

/** The API layer service. */
export function createCloudAssetService(deps: AppDeps, o: CloudAssetServiceOptions): Service & {
  /** Runs one poll now (also what the interval does); resolves when its snapshot is written. */
  pollNow(): Promise<void>;
} {
  const log = deps.log.child("cloud_asset", { source: o.source.kind });
  const polls = metric(deps.metrics, "lzsync_cloud_asset_polls_total", () =>
    new Counter({
      name: "lzsync_cloud_asset_polls_total",
      help: "Cloud Asset polls and export loads by result",
      labelNames: ["source", "result"],
      registers: [deps.metrics],
    }));
  const assetsListed = metric(deps.metrics, "lzsync_cloud_asset_assets_total", () =>
    new Counter({
      name: "lzsync_cloud_asset_assets_total",
      help: "Assets written to snapshots",
      labelNames: ["source"],
      registers: [deps.metrics],
    }));
  const quotaRetries = metric(deps.metrics, "lzsync_cloud_asset_retries_total", () =>
    new Counter({
      name: "lzsync_cloud_asset_retries_total",
      help: "ListAssets calls retried after RESOURCE_EXHAUSTED / UNAVAILABLE",
      registers: [deps.metrics],
    }));
  const abort = new AbortController();
  let producer: Producer | undefined;
  let lister: AssetLister | undefined;
  let loop: Promise<void> | undefined;
  let previous: string | null = null;
  /** The export file version (SHA-256) last loaded, and what its load reported: an unchanged file is not
   * re-emitted and its bad lines are not sent to the DLQ again. */
  let lastFile: { hash: string; id: string; unreadable: number; error?: string } | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function report(ev: SyncEvent): Promise<void> {
    await producer!.send(SYNC_EVENTS_TOPIC.name, [{ key: "api", value: encode(SYNC_EVENTS_TOPIC.name, ev) }]);
  }

  async function dlqLine(path: string, e: ExportLineError): Promise<void> {
    const value = {
      error: e.error,
      error_code: "VALIDATION",
      stage: "cloud_asset.export",
      attempts: 1,
      source: { topic: `file:${path}`, partition: -1, offset: e.line },
      original: { key: null, value_base64: utf8Base64(e.text), headers: {} },
      failed_at: new Date(deps.clock.now()).toISOString(),
    };
    await producer!.send(DLQ_TOPIC.name, [{
      key: `file:${path}/${e.line}`,
      value: encode(DLQ_TOPIC.name, value),
    }]);
  }

  async function once(): Promise<void> {
    const started = deps.clock.now();
    const next = () => new Date(deps.clock.now() + o.intervalMs).toISOString();
    const sink = producerSink(producer!);
    try {
      // Written per partition of the topic as it is (a topic short of broker.partitions keeps its count).
      const partitions = (await deps.broker.admin().describeTopic(ASSET_SNAPSHOTS_TOPIC.name)).partitions;
      let id: string;
      let items: number;
      let readTime: string | null;
      let unreadable = 0;
      if (o.source.kind === "api") {
        const r = await pollAssets({
          lister: lister!,
          sink,
          partitions,
          clock: deps.clock,
          parent: o.source.parent,
          assetTypes: o.assetTypes,
          pageSize: o.pageSize,
          previousSnapshotId: previous,
          backoff: {
            ...o.backoff,
            signal: abort.signal,
            onRetry(info) {
              quotaRetries.inc();
              log.warn("ListAssets throttled or unavailable; backing off", { ...info });
              o.backoff?.onRetry?.(info);
            },
          },
        });
        [id, items, readTime] = [r.snapshot_id, r.asset_count, r.read_time];
        log.info("poll complete", { snapshot_id: id, assets: items, pages: r.pages, retries: r.retries });
      } else {
        const path = o.source.path;
        const bytes = await Deno.readFile(path);
        const hash = await sha256Hex(bytes);
        if (lastFile?.hash === hash) {
          // Same file version: nothing to emit, nothing new for the DLQ; the layer's report stands.
          if (lastFile.error) throw new Error(lastFile.error);
          [id, items, readTime, unreadable] = [lastFile.id, 0, null, lastFile.unreadable];
          log.debug("export file unchanged; not re-emitted", { path, sha256: hash });
        } else {
          const r = await loadExportFile({
            path,
            onUnusable: (error) => void (lastFile = { hash, id: "", unreadable: 0, error }),
            text: new TextDecoder().decode(bytes),
            sink,
            partitions,
            clock: deps.clock,
            assetTypes: o.assetTypes,
            parent: o.source.parent,
            previousSnapshotId: previous,
            maxAssetBytes: o.maxAssetBytes,
            onBadLine: (e) => dlqLine(path, e),
          });
          [id, items, readTime, unreadable] = [r.snapshot_id, r.asset_count, r.read_time, r.bad_lines];
          lastFile = { hash, id, unreadable };
          log.info("export file loaded", { path, snapshot_id: id, assets: items, bad_lines: r.bad_lines });
        }
      }
      previous = id;
      polls.inc({ source: o.source.kind, result: "ok" });
      assetsListed.inc({ source: o.source.kind }, items);
      await report({
        id,
        layer: "api",
        trigger: "schedule",
        ok: true,
        items,
        started_at: new Date(started).toISOString(),
        finished_at: new Date(deps.clock.now()).toISOString(),
        event_time: readTime,
        next_sync: next(),
        ref: id,
        ...(unreadable ? { unreadable } : {}),
      });
    } catch (err) {
      if (abort.signal.aborted) return;
      polls.inc({ source: o.source.kind, result: "error" });
      const error = describeError(err);
      log.error("poll failed", { error });
      await report({
        id: `api-failed-${started}-${crypto.randomUUID().slice(0, 8)}`,
        layer: "api",
        trigger: "schedule",
        ok: false,
        items: 0,
        error: error.slice(0, 2000),
        started_at: new Date(started).toISOString(),
        finished_at: new Date(deps.clock.now()).toISOString(),
        next_sync: next(),
      }).catch((e) => log.error("could not report the failed poll", { error: describeError(e) }));
    }
  }

  function serialized(): Promise<void> {
    running = running.then(once, once);
    return running;
  }

  return {
    name: `cloud-asset-${o.source.kind}`,
    topics: { writes: [ASSET_SNAPSHOTS_TOPIC.name, SYNC_EVENTS_TOPIC.name, DLQ_TOPIC.name] },
    async start() {
      producer = await deps.broker.producer();
      await ensureTopics(deps, [ASSET_SNAPSHOTS_TOPIC, SYNC_EVENTS_TOPIC, DLQ_TOPIC]);
      if (o.source.kind === "api") {
        lister = o.source.lister ??
          createAssetLister({ apiEndpoint: o.source.apiEndpoint, authClient: o.source.authClient });
      }
      loop = (async () => {
        while (!abort.signal.aborted) {
          await serialized();
          try {
            await sleep(o.intervalMs, abort.signal);
          } catch {
            return;
          }
        }
      })();
    },
    pollNow: () => serialized(),
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      await loop;
      await running.catch(() => {});
      if (o.source.kind === "api" && !o.source.lister) await lister?.close();
      await producer?.close();
    },
  };
}
