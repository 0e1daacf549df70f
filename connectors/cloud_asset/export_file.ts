/**
 * A Cloud Asset export file (NDJSON, one `Asset` per line, as `gcloud asset export --output-path=gs://...`
 * writes it; snake_case or camelCase field names) as a snapshot source: for air-gapped runs and for the
 * first-run sample in `deploy/sample-lz/assets/export.ndjson`. Lines of the same asset from different
 * content types (RESOURCE and IAM_POLICY exports) are merged. A bad line is reported with its line number and
 * skipped; the rest of the file still loads.
 */
import type { AssetRecord } from "../../schemas/assets.ts";
import type { Clock } from "../../pipeline/processor/types.ts";
import { describeError } from "../../pipeline/errors.ts";
import { mergeAssetParts, normalizeAsset } from "./normalize.ts";
import { newSnapshotId, type SnapshotSink, type SnapshotSummary, SnapshotWriter } from "./snapshot_writer.ts";

/** A line that could not be read. */
export interface ExportLineError {
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
}

/** Parses NDJSON export text. */
export function parseExport(text: string): ExportContents {
  const byName = new Map<string, AssetRecord>();
  const errors: ExportLineError[] = [];
  let lineNo = 0;
  let root: string[] | null = null;
  for (const raw of text.split("\n")) {
    lineNo++;
    const line = raw.trim();
    if (!line) continue;
    try {
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (err) {
        throw new Error(`not JSON: ${(err as Error).message}`);
      }
      const a = normalizeAsset(obj, `line ${lineNo}`);
      const prev = byName.get(a.name);
      byName.set(a.name, prev ? mergeAssetParts(prev, a) : a);
      if (a.ancestors.length) {
        const anc = a.ancestors;
        root = root === null ? [...anc] : root.filter((r) => anc.includes(r));
      }
    } catch (err) {
      errors.push({ line: lineNo, error: describeError(err), text: line.slice(0, 4096) });
    }
  }
  // The outermost shared ancestor is the last one in the list (ancestors go from the asset upwards).
  return { assets: [...byName.values()], errors, root: root && root.length ? root[root.length - 1] : null };
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
}

/** What a load reports. */
export interface LoadExportResult extends SnapshotSummary {
  bad_lines: number;
}

/** Reads the file and writes it as one snapshot. */
export async function loadExportFile(o: LoadExportOptions): Promise<LoadExportResult> {
  const text = await Deno.readTextFile(o.path);
  const parsed = parseExport(text);
  for (const e of parsed.errors) await o.onBadLine?.(e);
  const parent = o.parent ?? parsed.root ?? `export:${o.path}`;
  const types = [...new Set([...o.assetTypes, ...parsed.assets.map((a) => a.asset_type)])];
  const writer = new SnapshotWriter({
    sink: o.sink,
    key: parent,
    snapshotId: newSnapshotId("export", o.clock.now()),
    clock: o.clock,
  });
  await writer.begin({
    previous_snapshot_id: o.previousSnapshotId ?? null,
    source: "export",
    parent,
    asset_types: types,
    content_types: parsed.assets.some((a) => a.iam_policy) ? ["RESOURCE", "IAM_POLICY"] : ["RESOURCE"],
  });
  // Projects first, like the API poller, so project ids are known before number-only resources.
  const ordered = [
    ...parsed.assets.filter((a) => a.asset_type === "cloudresourcemanager.googleapis.com/Project"),
    ...parsed.assets.filter((a) => a.asset_type !== "cloudresourcemanager.googleapis.com/Project"),
  ];
  for (const a of ordered) await writer.add(a);
  const summary = await writer.complete({ pages: 0, read_time: null });
  return { ...summary, bad_lines: parsed.errors.length };
}
