/**
 * One Cloud Asset poll: ListAssets (content type RESOURCE, and IAM_POLICY for the types whose rules read IAM)
 * for a parent and asset types, page by page with quota-aware backoff per page, streamed into a snapshot on
 * `lz.assets.snapshot.v1`. Projects are listed first so consumers learn project ids before resources that
 * only carry a project number (buckets).
 */
import type { AssetRecord } from "../../schemas/assets.ts";
import type { Clock } from "../../pipeline/processor/types.ts";
import { describeError } from "../../pipeline/errors.ts";
import type { AssetLister, ContentType } from "./client.ts";
import { type BackoffOptions, withBackoff } from "./backoff.ts";
import { newSnapshotId, type SnapshotSink, type SnapshotSummary, SnapshotWriter } from "./snapshot_writer.ts";

/** Asset types whose rules need the IAM policy (public bucket: CIS GCP 5.1). */
export const IAM_POLICY_TYPES = ["storage.googleapis.com/Bucket"];
const PROJECT_TYPE = "cloudresourcemanager.googleapis.com/Project";

/** Options of {@link pollAssets}. */
export interface PollOptions {
  lister: AssetLister;
  sink: SnapshotSink;
  clock: Clock;
  parent: string;
  assetTypes: string[];
  /** Types to also list with IAM_POLICY (default {@link IAM_POLICY_TYPES} ∩ assetTypes). */
  iamAssetTypes?: string[];
  pageSize?: number;
  previousSnapshotId?: string | null;
  backoff?: BackoffOptions;
  /** Assets per snapshot chunk (default 500). */
  chunkAssets?: number;
  /** Partitions of `lz.assets.snapshot.v1` the snapshot is written over (default 1). */
  partitions?: number;
}

/** What a successful poll reports. */
export interface PollResult extends SnapshotSummary {
  pages: number;
  retries: number;
}

/** Polls once and writes the snapshot; on failure writes `snapshot_failed` and rethrows. */
export async function pollAssets(o: PollOptions): Promise<PollResult> {
  const writer = new SnapshotWriter({
    sink: o.sink,
    key: o.parent,
    snapshotId: newSnapshotId("api", o.clock.now()),
    clock: o.clock,
    maxAssets: o.chunkAssets,
    partitions: o.partitions,
  });
  const iamTypes = (o.iamAssetTypes ?? IAM_POLICY_TYPES).filter((t) => o.assetTypes.includes(t));
  let pages = 0;
  let retries = 0;
  let readTime: string | null = null;
  const onRetry = o.backoff?.onRetry;
  const backoff: BackoffOptions = {
    ...o.backoff,
    onRetry(info) {
      retries++;
      onRetry?.(info);
    },
  };

  async function* listAll(assetTypes: string[], contentType: ContentType): AsyncGenerator<AssetRecord[]> {
    if (!assetTypes.length) return;
    let pageToken: string | undefined;
    do {
      const page = await withBackoff(
        () =>
          o.lister.listPage({ parent: o.parent, assetTypes, contentType, pageSize: o.pageSize, pageToken }),
        backoff,
      );
      pages++;
      readTime ??= page.readTime;
      writer.readTime ??= page.readTime;
      yield page.assets;
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
  }

  await writer.begin({
    previous_snapshot_id: o.previousSnapshotId ?? null,
    source: "api",
    parent: o.parent,
    asset_types: o.assetTypes,
    content_types: iamTypes.length ? ["RESOURCE", "IAM_POLICY"] : ["RESOURCE"],
  });
  try {
    // IAM policies first (only a few types): attached to their resources as those stream by.
    const iam = new Map<string, AssetRecord["iam_policy"]>();
    for await (const assets of listAll(iamTypes, "IAM_POLICY")) {
      for (const a of assets) if (a.iam_policy) iam.set(a.name, a.iam_policy);
    }
    const first = o.assetTypes.filter((t) => t === PROJECT_TYPE);
    const rest = o.assetTypes.filter((t) => t !== PROJECT_TYPE);
    for (const group of [first, rest]) {
      for await (const assets of listAll(group, "RESOURCE")) {
        for (const a of assets) {
          if (iamTypes.includes(a.asset_type)) a.iam_policy = iam.get(a.name) ?? null;
          await writer.add(a);
        }
      }
    }
    const summary = await writer.complete({ pages, read_time: readTime });
    return { ...summary, pages, retries };
  } catch (err) {
    await writer.fail(describeError(err)).catch(() => {});
    throw err;
  }
}
