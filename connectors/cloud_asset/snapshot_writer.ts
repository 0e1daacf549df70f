/**
 * Writes one snapshot to `lz.assets.snapshot.v1`: `snapshot_started`, bounded `snapshot_assets` chunks (by
 * count and by encoded size, well under Kafka's 1 MB default record limit), then `snapshot_completed` with the
 * counts, or `snapshot_failed`. Every write awaits the broker's acknowledgement, so a slow broker slows the
 * listing instead of buffering the whole inventory in memory. Shared by the API poller and the export source.
 */
import { crashPoint } from "../../pipeline/crash_point.ts";
import type { Producer } from "../../pipeline/broker/types.ts";
import { encode } from "../../pipeline/serde.ts";
import { ASSET_SNAPSHOTS_TOPIC, type AssetRecord, type SnapshotRecord } from "../../schemas/assets.ts";
import type { Clock } from "../../pipeline/processor/types.ts";

/** Sends validated snapshot records in order; resolves once acknowledged. */
export type SnapshotSink = (key: string, records: SnapshotRecord[]) => Promise<void>;

/** A {@link SnapshotSink} over a broker producer (acks=all). */
export function producerSink(producer: Producer): SnapshotSink {
  return async (key, records) => {
    await producer.send(
      ASSET_SNAPSHOTS_TOPIC.name,
      records.map((r) => ({ key, value: encode(ASSET_SNAPSHOTS_TOPIC.name, r) })),
    );
  };
}

/** What a finished snapshot reports. */
export interface SnapshotSummary {
  snapshot_id: string;
  asset_count: number;
  chunk_count: number;
  read_time: string | null;
  duration_ms: number;
}

/** A new snapshot id: source, time and a random suffix (unique across restarts and pollers). */
export function newSnapshotId(source: string, now: number): string {
  const rand = crypto.getRandomValues(new Uint8Array(4));
  return `${source}-${new Date(now).toISOString().replace(/[-:.]/g, "")}-${
    [...rand].map((b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}

/** Streams one snapshot. Call {@link begin}, {@link add} per asset, then {@link complete} or {@link fail}. */
export class SnapshotWriter {
  readonly snapshotId: string;
  #sink: SnapshotSink;
  #key: string;
  #clock: Clock;
  #chunk: AssetRecord[] = [];
  #chunkBytes = 0;
  #seq = 0;
  #count = 0;
  #started = 0;
  /** The source's read time (ListAssets `readTime`): written on every chunk as its observation time. */
  readTime: string | null = null;
  readonly #maxAssets: number;
  readonly #maxBytes: number;

  constructor(
    o: {
      sink: SnapshotSink;
      key: string;
      snapshotId: string;
      clock: Clock;
      maxAssets?: number;
      maxBytes?: number;
    },
  ) {
    this.#sink = o.sink;
    this.#key = o.key;
    this.snapshotId = o.snapshotId;
    this.#clock = o.clock;
    this.#maxAssets = o.maxAssets ?? 500;
    this.#maxBytes = o.maxBytes ?? 512 * 1024;
  }

  /** Writes `snapshot_started`. */
  async begin(meta: {
    previous_snapshot_id: string | null;
    source: "api" | "export";
    parent: string;
    asset_types: string[];
    content_types: string[];
  }): Promise<void> {
    this.#started = this.#clock.now();
    await this.#sink(this.#key, [{
      type: "snapshot_started",
      snapshot_id: this.snapshotId,
      ...meta,
      started_at: new Date(this.#started).toISOString(),
    }]);
  }

  /** Adds one asset; writes a chunk when it is full. */
  async add(asset: AssetRecord): Promise<void> {
    const size = JSON.stringify(asset).length;
    if (
      this.#chunk.length &&
      (this.#chunk.length >= this.#maxAssets || this.#chunkBytes + size > this.#maxBytes)
    ) {
      await this.#flush();
    }
    this.#chunk.push(asset);
    this.#chunkBytes += size;
    this.#count++;
  }

  async #flush(): Promise<void> {
    if (!this.#chunk.length) return;
    const assets = this.#chunk;
    this.#chunk = [];
    this.#chunkBytes = 0;
    await this.#sink(this.#key, [{
      type: "snapshot_assets",
      snapshot_id: this.snapshotId,
      seq: this.#seq++,
      assets,
      ...(this.readTime ? { read_time: this.readTime } : {}),
    }]);
    crashPoint("assets:mid-snapshot");
  }

  /** Writes the last chunk and the completion marker with the counts. */
  async complete(
    meta: { pages: number; read_time: string | null; unreadable?: number },
  ): Promise<SnapshotSummary> {
    await this.#flush();
    const now = this.#clock.now();
    const summary = {
      snapshot_id: this.snapshotId,
      asset_count: this.#count,
      chunk_count: this.#seq,
      read_time: meta.read_time,
      duration_ms: Math.max(0, now - this.#started),
    };
    await this.#sink(this.#key, [{
      type: "snapshot_completed",
      ...summary,
      pages: meta.pages,
      completed_at: new Date(now).toISOString(),
      ...(meta.unreadable ? { unreadable: meta.unreadable } : {}),
    }]);
    return summary;
  }

  /** Marks the snapshot failed (best effort): consumers then skip deletions for it. */
  async fail(error: string): Promise<void> {
    this.#chunk = [];
    await this.#sink(this.#key, [{
      type: "snapshot_failed",
      snapshot_id: this.snapshotId,
      error: error.slice(0, 2000),
      asset_count: this.#count,
      failed_at: new Date(this.#clock.now()).toISOString(),
    }]);
  }
}
