/**
 * The changelog format of the assets processor's `assets` store (persisted contract). In memory an entry is
 * the compact {@link AssetEntry} (short field names, the record kept as JSON text); on disk it is written
 * readable, as {@link AssetEntryV1}, with format version 1 in the record's `lz-fmt` header. Version 0 —
 * changelogs written before this codec, including the older entries without part times — is the compact
 * form itself and restores unchanged, so state on a user's disk survives the upgrade with the same digest.
 *
 * Encoding builds the JSON text around the entry's record text (never re-parsing it), so writing the
 * changelog costs about what it did before.
 */
import type { StoreCodec } from "../../pipeline/processor/store.ts";
import { LzError } from "../../pipeline/errors.ts";
import type { AssetRecord } from "../../schemas/assets.ts";
import type { AssetEntry } from "./merge.ts";

/** Format 1 of an assets store entry. Times are epoch milliseconds. */
export interface AssetEntryV1 {
  asset_type: string;
  /** Order time of the resource part: its update_time, else when it was observed. */
  resource_order_ms: number;
  /** When the resource part was observed (absent in entries from before part times: the order time). */
  resource_observed_ms?: number;
  /** When the IAM policy part was observed (0: none known). */
  iam_observed_ms?: number;
  /** When the org-policy part was observed (0: none known). */
  org_policy_observed_ms?: number;
  /** No resource part is known yet: stored, never forwarded. */
  pending?: true;
  /** Parent of the snapshot that last created or updated it; "" when a feed or event did. */
  snapshot_scope: string;
  /** 0 while present; when it was deleted (a tombstone) otherwise. */
  deleted_ms: number;
  /** The current (or last known) asset record. */
  asset: AssetRecord;
}

const str = JSON.stringify;

/** The changelog JSON text of an in-memory entry (the record text `j` embedded as it is). */
export function assetEntryText(e: AssetEntry): string {
  let s = `{"asset_type":${str(e.ty)},"resource_order_ms":${e.u}`;
  if (e.o !== undefined) s += `,"resource_observed_ms":${e.o}`;
  if (e.iu !== undefined) s += `,"iam_observed_ms":${e.iu}`;
  if (e.gu !== undefined) s += `,"org_policy_observed_ms":${e.gu}`;
  if (e.nr) s += `,"pending":true`;
  return `${s},"snapshot_scope":${str(e.sc)},"deleted_ms":${e.del},"asset":${e.j}}`;
}

/** The in-memory entry of a readable one. */
export function assetEntryFromV1(v: AssetEntryV1): AssetEntry {
  const e: AssetEntry = {
    u: v.resource_order_ms,
    ty: v.asset_type,
    sc: v.snapshot_scope,
    del: v.deleted_ms,
    j: "",
  };
  if (v.resource_observed_ms !== undefined) e.o = v.resource_observed_ms;
  if (v.iam_observed_ms !== undefined) e.iu = v.iam_observed_ms;
  if (v.org_policy_observed_ms !== undefined) e.gu = v.org_policy_observed_ms;
  if (v.pending) e.nr = 1;
  e.j = str(v.asset);
  return e;
}

/** The codec of the assets processor's `assets` store. */
export const assetEntryCodec: StoreCodec<AssetEntry> = {
  version: 1,
  encode: assetEntryText,
  decode(raw, version) {
    if (version === 1) return assetEntryFromV1(raw as AssetEntryV1);
    if (version === 0) return raw as AssetEntry;
    throw new LzError(
      "CHANGELOG_FORMAT",
      `assets store entry has format ${version}, newer than this lzsync knows (1); upgrade lzsync`,
    );
  },
};
