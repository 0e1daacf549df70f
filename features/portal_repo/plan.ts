/**
 * What the Portal's repository should hold for one Landing Zone commit, and the changes that take a Portal
 * tree there. The decision to commit looks at the mapped files only: `sync-metadata.json` is rewritten with
 * them, so it names the Landing Zone commit that last changed the Portal's copy, and a Landing Zone commit
 * that changes no mapped file commits nothing.
 */
import { gitObject } from "../../connectors/git/pack.ts";
import type { Changes, TreeFile } from "../../connectors/git/git_repo.ts";
import type { GitCommitMarker, GitFile } from "../../schemas/git_files.ts";
import { base64ToBytes } from "../../pipeline/base64.ts";
import { LZSYNC_VERSION } from "../../pipeline/version.ts";
import { LzError } from "../../pipeline/errors.ts";
import type { PortalMapping } from "./mapping.ts";

/** One desired Portal file: its git blob id, and its content (read lazily when not inline). */
export interface DesiredFile {
  oid: string;
  /** Landing Zone path it comes from. */
  source: string;
  load(): Promise<Uint8Array>;
}

/** The Portal's managed files for one Landing Zone commit. */
export interface Desired {
  /** Portal path → file (the mapped files, without the metadata file). */
  files: Map<string, DesiredFile>;
  metadataPath: string;
  metadata: Uint8Array;
  marker: GitCommitMarker;
}

/** Reads a file whose content is not inline (above `layers.git.inline_max_bytes`). */
export type ReadContent = (f: GitFile) => Promise<Uint8Array>;

const enc = new TextEncoder();

/** The content of an inline synced file record, or null when it is only referenced. */
function inlineBytes(f: GitFile): Uint8Array | null {
  if (f.content === null) return null;
  return f.encoding === "base64" ? base64ToBytes(f.content) : enc.encode(f.content);
}

/**
 * Builds the desired state from the Landing Zone files of `marker.repo` and the mapping. Symlinks and
 * submodules are not copied (the Portal gets regular files only). Contents above the inline limit are read
 * through `read` only when the Portal does not hold that blob yet.
 */
export function desiredState(
  files: Iterable<GitFile>,
  marker: GitCommitMarker,
  mapping: PortalMapping,
  metadataPath: string,
  read: ReadContent,
): Desired {
  const out = new Map<string, DesiredFile>();
  const listed: { path: string; source: string; blob_sha: string }[] = [];
  const sorted = [...files].filter((f) =>
    f.repo === marker.repo && f.mode !== "120000" && f.mode !== "160000"
  )
    .sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  for (const f of sorted) {
    const to = mapping.target(f.path);
    if (to === null || out.has(to)) continue;
    const bytes = inlineBytes(f);
    const oid = bytes ? gitObject("blob", bytes).oid : f.blob_sha;
    out.set(to, { oid, source: f.path, load: bytes ? () => Promise.resolve(bytes) : () => read(f) });
    listed.push({ path: to, source: f.path, blob_sha: oid });
  }
  const metadata = {
    source: {
      repo: marker.repo,
      branch: marker.branch,
      commit: marker.commit,
      commit_time: marker.commit_time,
      message: marker.message.split("\n")[0],
    },
    synced_at: marker.synced_at,
    sync_id: marker.sync_id,
    lzsync_version: LZSYNC_VERSION,
    files: listed,
  };
  return {
    files: out,
    metadataPath,
    metadata: enc.encode(`${JSON.stringify(metadata, null, 2)}\n`),
    marker,
  };
}

/** A diff of the managed files, or null when the mapped files already match (nothing to commit). */
export interface Diff {
  changes: Changes;
  written: string[];
  removed: string[];
}

/** The changes that take `current` (the managed part of a Portal tree) to `desired`; reads changed contents. */
export async function diffTree(
  desired: Desired,
  current: ReadonlyMap<string, TreeFile>,
  mapping: PortalMapping,
): Promise<Diff | null> {
  const writes = new Map<string, Uint8Array>();
  const deletes = new Set<string>();
  for (const [path, f] of desired.files) {
    if (current.get(path)?.oid === f.oid) continue;
    const bytes = await f.load();
    if (gitObject("blob", bytes).oid !== f.oid) {
      throw new LzError(
        "PORTAL_CONTENT",
        `the content read for ${f.source} does not match its blob ${f.oid}`,
        {
          retriable: true,
        },
      );
    }
    writes.set(path, bytes);
  }
  for (const path of current.keys()) {
    if (path !== desired.metadataPath && mapping.managed(path) && !desired.files.has(path)) deletes.add(path);
  }
  if (writes.size === 0 && deletes.size === 0) return null;
  const written = [...writes.keys()].sort();
  writes.set(desired.metadataPath, desired.metadata);
  return { changes: { writes, deletes }, written, removed: [...deletes].sort() };
}

/** The commit message of a sync: names the Landing Zone commit (trailer `Landing-Zone-Commit`). */
export function commitMessage(d: Desired, diff: Diff): string {
  const m = d.marker;
  const short = m.commit ? m.commit.slice(0, 12) : "(branch deleted)";
  const subject = m.message.split("\n")[0].slice(0, 120);
  return [
    `lzsync: Landing Zone ${m.repo}@${short}`,
    "",
    `Sync of ${m.repo} ${m.branch} at ${m.commit ?? "nothing"}: ${subject}`,
    `${diff.written.length} file(s) written, ${diff.removed.length} removed.`,
    "",
    `Landing-Zone-Commit: ${m.commit ?? "none"}`,
    `Lzsync-Sync-Id: ${m.sync_id}`,
    "",
  ].join("\n");
}
