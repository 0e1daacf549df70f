/**
 * A Cloud Asset export file (NDJSON, one `Asset` per line, as `gcloud asset export --output-path=gs://...`
 * writes it; snake_case or camelCase field names) as a snapshot source: for air-gapped runs and for the
 * first-run sample in `deploy/sample-lz/assets/export.ndjson`), or a JSON array of assets (`gcloud asset list
 * --format=json`, policy-library and terraform-validator asset files). Lines of the same
 * asset from different content types (RESOURCE, IAM_POLICY, ORG_POLICY exports) are merged. A bad or
 * oversized line is reported with its line number and skipped; the rest still loads, but the snapshot is
 * marked incomplete so it deletes nothing.
 */
import type { AssetRecord } from "../../schemas/assets.ts";
import type { Clock } from "../../pipeline/processor/types.ts";
import { describeError, ValidationError } from "../../pipeline/errors.ts";
import { mergeAssetParts, normalizeAsset } from "./normalize.ts";
import { newSnapshotId, type SnapshotSink, type SnapshotSummary, SnapshotWriter } from "./snapshot_writer.ts";

/** A line (or array element) that could not be read. */
export interface ExportLineError {
  /** Line number (NDJSON) or element number from 1 (JSON array). */
  line: number;
  error: string;
  text: string;
}

/** The parsed file. */
export interface ExportContents {
  assets: AssetRecord[];
  errors: ExportLineError[];
  /** The common ancestor of every asset (e.g. `organizations/123`), or null. */
  root: string | null;
  /** `ndjson` (`gcloud asset export`) or `json-array` (`gcloud asset list --format=json`, policy-library). */
  format: "ndjson" | "json-array";
}

/** Default cap of one asset's JSON (4 MiB): a bigger line goes to the DLQ, not into a snapshot. */
export const DEFAULT_MAX_ASSET_BYTES = 4 * 1024 * 1024;

/** Options of {@link parseExport}. */
export interface ParseExportOptions {
  /** Largest accepted asset (bytes of its JSON text); default {@link DEFAULT_MAX_ASSET_BYTES}. */
  maxAssetBytes?: number;
}

/**
 * Parses export text: NDJSON (one `Asset` per line) or one JSON array of assets. Every unreadable or oversized
 * record is an error with its line (element) number; the rest still loads.
 */
export function parseExport(text: string, o: ParseExportOptions = {}): ExportContents {
  const cap = o.maxAssetBytes ?? DEFAULT_MAX_ASSET_BYTES;
  const byName = new Map<string, AssetRecord>();
  const errors: ExportLineError[] = [];
  let root: string[] | null = null;
  const take = (n: number, obj: unknown, chars: number, raw: () => string) => {
    let size = chars;
    try {
      if (size > cap / 3 && new TextEncoder().encode(raw()).length > cap) {
        size = new TextEncoder().encode(raw()).length;
        throw new Error(
          `asset is ${size} bytes, over the ${cap}-byte cap (layers.api.max_asset_bytes); not loaded`,
        );
      }
      const a = normalizeAsset(obj === undefined ? parseLine(raw()) : obj, `line ${n}`);
      const prev = byName.get(a.name);
      byName.set(a.name, prev ? mergeAssetParts(prev, a) : a);
      if (a.ancestors.length) {
        const anc = a.ancestors;
        root = root === null ? [...anc] : root.filter((r) => anc.includes(r));
      }
    } catch (err) {
      errors.push({ line: n, error: describeError(err), text: raw().slice(0, 4096) });
    }
  };
  const trimmed = text.trimStart();
  let format: ExportContents["format"] = "ndjson";
  if (trimmed.startsWith("[")) {
    format = "json-array";
    let arr: unknown;
    try {
      arr = JSON.parse(trimmed);
    } catch (err) {
      errors.push({
        line: 1,
        error: `JSON array is not valid JSON (truncated?): ${(err as Error).message}`,
        text: trimmed.slice(0, 4096),
      });
    }
    if (Array.isArray(arr)) {
      arr.forEach((el, i) => {
        const raw = JSON.stringify(el);
        take(i + 1, el, raw.length, () => raw);
      });
    }
  } else {
    let lineNo = 0;
    for (const rawLine of text.split("\n")) {
      lineNo++;
      const line = rawLine.trim();
      if (!line) continue;
      take(lineNo, undefined, line.length, () => line);
    }
  }
  const r = root as string[] | null;
  // The outermost shared ancestor is the last one in the list (ancestors go from the asset upwards).
  return { assets: [...byName.values()], errors, root: r && r.length ? r[r.length - 1] : null, format };
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
}

/** The content types a set of assets carries (for `snapshot_started.content_types`). */
export function contentTypesOf(assets: AssetRecord[]): string[] {
  const out: string[] = [];
  if (assets.some((a) => a.data !== null)) out.push("RESOURCE");
  if (assets.some((a) => a.iam_policy)) out.push("IAM_POLICY");
  if (assets.some((a) => a.org_policy)) out.push("ORG_POLICY");
  return out;
}

/** Options of {@link loadExportFile}. */
export interface LoadExportOptions {
  path: string;
  sink: SnapshotSink;
  clock: Clock;
  /** Asset types the export covers (assets of other types are never deleted by it). */
  assetTypes: string[];
  /** Scope of the snapshot; default the file's common ancestor, else `export:<path>`. */
  parent?: string;
  previousSnapshotId?: string | null;
  /** Told about each bad line (the caller sends it to the DLQ). */
  onBadLine?(e: ExportLineError): Promise<void>;
  /** Largest accepted asset; default {@link DEFAULT_MAX_ASSET_BYTES}. */
  maxAssetBytes?: number;
  /** The file's text when the caller has read it already (to hash it). */
  text?: string;
  /** Told the error when the file has no usable asset (before it is thrown). */
  onUnusable?(error: string): void;
  /** Partitions of `lz.assets.snapshot.v1` the snapshot is written over (default 1). */
  partitions?: number;
}

/** What a load reports. */
export interface LoadExportResult extends SnapshotSummary {
  bad_lines: number;
}

/**
 * Reads the file and writes it as one snapshot. A file with bad lines is written as an incomplete snapshot
 * (`unreadable` > 0: it deletes nothing). A file with no usable asset at all writes nothing and throws.
 */
export async function loadExportFile(o: LoadExportOptions): Promise<LoadExportResult> {
  const text = o.text ?? await Deno.readTextFile(o.path);
  const parsed = parseExport(text, { maxAssetBytes: o.maxAssetBytes });
  for (const e of parsed.errors) await o.onBadLine?.(e);
  if (!parsed.assets.length) {
    const err = new ValidationError(
      `export file ${o.path} has no usable asset (${parsed.errors.length} unreadable ${
        parsed.format === "ndjson" ? "lines" : "elements"
      }); expected \`gcloud asset export\` NDJSON or a JSON array of assets`,
      [{ path: "/", message: parsed.errors[0]?.error ?? "the file is empty" }],
    );
    o.onUnusable?.(err.message);
    throw err;
  }
  const parent = o.parent ?? parsed.root ?? `export:${o.path}`;
  const types = [...new Set([...o.assetTypes, ...parsed.assets.map((a) => a.asset_type)])];
  const writer = new SnapshotWriter({
    sink: o.sink,
    key: parent,
    snapshotId: newSnapshotId("export", o.clock.now()),
    clock: o.clock,
    partitions: o.partitions,
  });
  await writer.begin({
    previous_snapshot_id: o.previousSnapshotId ?? null,
    source: "export",
    parent,
    asset_types: types,
    content_types: contentTypesOf(parsed.assets),
  });
  // Projects first, like the API poller, so project ids are known before number-only resources.
  const ordered = [
    ...parsed.assets.filter((a) => a.asset_type === "cloudresourcemanager.googleapis.com/Project"),
    ...parsed.assets.filter((a) => a.asset_type !== "cloudresourcemanager.googleapis.com/Project"),
  ];
  for (const a of ordered) await writer.add(a);
  const summary = await writer.complete({ pages: 0, read_time: null, unreadable: parsed.errors.length });
  return { ...summary, bad_lines: parsed.errors.length };
}
