/**
 * The Landing Zone's synced files as `lz.git.files.v1` states them: the latest file record per path and the
 * latest commit marker per repo (a tombstone removes a path). The Portal sink snapshots it at a marker.
 */
import type { ConsumedRecord } from "../../pipeline/broker/types.ts";
import { decode } from "../../pipeline/serde.ts";
import {
  GIT_FILES_TOPIC,
  type GitCommitMarker,
  type GitFile,
  type GitFilesValue,
} from "../../schemas/git_files.ts";

/** Latest value per key of `lz.git.files.v1`. */
export class FilesTable {
  readonly #files = new Map<string, GitFile>();
  readonly #markers = new Map<string, GitCommitMarker>();

  /** Applies one record; returns the marker when the record is one. Throws on an undecodable value. */
  apply(r: Pick<ConsumedRecord, "key" | "value">): GitCommitMarker | null {
    if (r.key === null) return null;
    const v = decode<GitFilesValue>(GIT_FILES_TOPIC.name, r.value);
    if (v === null) {
      this.#files.delete(r.key);
      return null;
    }
    if (v.kind === "commit") {
      this.#markers.set(v.repo, v);
      return v;
    }
    this.#files.set(r.key, v);
    return null;
  }

  /** The files of `repo` now (a copy: later records do not change it). */
  files(repo: string): GitFile[] {
    return [...this.#files.values()].filter((f) => f.repo === repo);
  }

  /** The latest marker of `repo`. */
  marker(repo: string): GitCommitMarker | undefined {
    return this.#markers.get(repo);
  }
}
