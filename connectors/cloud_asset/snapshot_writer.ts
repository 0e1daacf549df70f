/**
 * Writes one snapshot to `lz.assets.snapshot.v1`: `snapshot_started`, bounded `snapshot_assets` chunks (by
 * count and by encoded size, well under Kafka's 1 MB default record limit), then `snapshot_completed` with the
 * counts, or `snapshot_failed`. Every write awaits the broker's acknowledgement, so a slow broker slows the
 * listing instead of buffering the whole inventory in memory. Shared by the API poller and the export source.
 *
 * Over N partitions the snapshot is written once per partition: every partition gets the start, the chunks of
 * the assets whose name hashes to it (Kafka's murmur2, as the asset state and the feed events are keyed) and
 * a marker with its own counts, so the task of each partition diffs exactly its share. Assets known only by
 * their project number get the project id from the Project assets listed earlier in the snapshot (both
 * sources list projects first), since the Project may hash to another partition.
 */
import { crashPoint } from "../../pipeline/crash_point.ts";
import type { Producer } from "../../pipeline/broker/types.ts";
import { encode } from "../../pipeline/serde.ts";
import { ASSET_SNAPSHOTS_TOPIC, type AssetRecord, type SnapshotRecord } from "../../schemas/assets.ts";
import type { Clock } from "../../pipeline/processor/types.ts";
import { partitionForKey } from "../../pipeline/broker/murmur2.ts";

/** Sends validated snapshot records in order to `partition`; resolves once acknowledged. */
export type SnapshotSink = (key: string, records: SnapshotRecord[], partition: number) => Promise<void>;

/** A {@link SnapshotSink} over a broker producer (acks=all). */
export function producerSink(producer: Producer): SnapshotSink {
  return async (key, records, partition) => {
    await producer.send(
      ASSET_SNAPSHOTS_TOPIC.name,
      records.map((r) => ({ key, partition, value: encode(ASSET_SNAPSHOTS_TOPIC.name, r) })),
    );
  };
}

const PROJECT_TYPE = "cloudresourcemanager.googleapis.com/Project";

/** One partition's share of a snapshot being written. */
interface Share {
  chunk: AssetRecord[];
  bytes: number;
  seq: number;
  count: number;
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
  readonly #shares: Share[];
  readonly #projects: Record<string, string> = {};
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
      /** Partitions of `lz.assets.snapshot.v1` (default 1). */
      partitions?: number;
    },
  ) {
    const n = o.partitions ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`partitions must be an integer >= 1, got ${n}`);
    this.#shares = Array.from({ length: n }, () => ({ chunk: [], bytes: 0, seq: 0, count: 0 }));
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
    const n = this.#shares.length;
    await this.#each((p) =>
      this.#sink(this.#key, [{
        type: "snapshot_started",
        snapshot_id: this.snapshotId,
        ...meta,
        started_at: new Date(this.#started).toISOString(),
        ...(n > 1 ? { partitions: n } : {}),
      }], p)
    );
  }

  /** Runs `fn` for every partition, in order. */
  async #each(fn: (partition: number) => Promise<void>): Promise<void> {
    for (let p = 0; p < this.#shares.length; p++) await fn(p);
  }

  /** Adds one asset to its partition's share; writes that share's chunk when it is full. */
  async add(asset: AssetRecord): Promise<void> {
    if (asset.asset_type === PROJECT_TYPE && asset.project && asset.project_number) {
      this.#projects[asset.project_number] = asset.project;
    } else if (!asset.project && asset.project_number && this.#projects[asset.project_number]) {
      asset = { ...asset, project: this.#projects[asset.project_number] };
    }
    const n = this.#shares.length;
    const p = n === 1 ? 0 : partitionForKey(asset.name, n);
    const share = this.#shares[p];
    const size = JSON.stringify(asset).length;
    if (
      share.chunk.length && (share.chunk.length >= this.#maxAssets || share.bytes + size > this.#maxBytes)
    ) {
      await this.#flush(p);
    }
    share.chunk.push(asset);
    share.bytes += size;
    share.count++;
    this.#count++;
  }

  async #flush(p: number): Promise<void> {
    const share = this.#shares[p];
    if (!share.chunk.length) return;
    const assets = share.chunk;
    share.chunk = [];
    share.bytes = 0;
    await this.#sink(this.#key, [{
      type: "snapshot_assets",
      snapshot_id: this.snapshotId,
      seq: share.seq++,
      assets,
      ...(this.readTime ? { read_time: this.readTime } : {}),
    }], p);
    crashPoint("assets:mid-snapshot");
  }

  /**
   * Writes the last chunks and each partition's completion marker with that partition's counts (the
   * returned summary has the totals). `unreadable` (source records that could not be read) goes on every
   * marker: a bad line may have been any partition's asset, so no partition deletes anything.
   */
  async complete(
    meta: { pages: number; read_time: string | null; unreadable?: number },
  ): Promise<SnapshotSummary> {
    await this.#each((p) => this.#flush(p));
    const now = this.#clock.now();
    const n = this.#shares.length;
    const duration = Math.max(0, now - this.#started);
    await this.#each((p) =>
      this.#sink(this.#key, [{
        type: "snapshot_completed",
        snapshot_id: this.snapshotId,
        asset_count: this.#shares[p].count,
        chunk_count: this.#shares[p].seq,
        read_time: meta.read_time,
        duration_ms: duration,
        pages: meta.pages,
        completed_at: new Date(now).toISOString(),
        ...(meta.unreadable ? { unreadable: meta.unreadable } : {}),
        ...(n > 1 ? { partitions: n } : {}),
      }], p)
    );
    return {
      snapshot_id: this.snapshotId,
      asset_count: this.#count,
      chunk_count: this.#shares.reduce((a, s) => a + s.seq, 0),
      read_time: meta.read_time,
      duration_ms: duration,
    };
  }

  /** Marks the snapshot failed on every partition (best effort): consumers then skip deletions for it. */
  async fail(error: string): Promise<void> {
    for (const s of this.#shares) s.chunk = [];
    await this.#each((p) =>
      this.#sink(this.#key, [{
        type: "snapshot_failed",
        snapshot_id: this.snapshotId,
        error: error.slice(0, 2000),
        asset_count: this.#shares[p].count,
        failed_at: new Date(this.#clock.now()).toISOString(),
      }], p)
    );
  }
}
