/**
 * The git writer of the Portal repository topology: a {@link Sink} the processor host flushes at each
 * checkpoint, before it produces outputs and changelog and commits the input offsets.
 *
 * The processor asks for one revision at a time ({@link PortalWriter.request}: a Landing Zone commit marker
 * and the Landing Zone's files at it); a newer request replaces one not yet flushed, so markers read in one
 * batch collapse into the newest. `flush` writes the requested revision into the Portal's repository —
 * directly or through the sync pull request — and the write compares trees first: it commits only when the
 * mapped files differ, so writing a revision twice (a restart, a replay) commits nothing the second time.
 * `flush` never throws for a write that failed: the failure is a report like a success, and the processor
 * decides what follows (a retry with backoff, or the DLQ) when it takes the reports at its next punctuation.
 */
import type { Sink } from "../../pipeline/processor/types.ts";
import type { Clock } from "../../pipeline/processor/types.ts";
import type { Logger } from "../../pipeline/log.ts";
import type { PortalRepoConfig } from "../../pipeline/config.ts";
import { describeError, isRetriable, LzError } from "../../pipeline/errors.ts";
import type { GitCommitMarker, GitFile } from "../../schemas/git_files.ts";
import type { PortalMapping } from "./mapping.ts";
import { desiredState, type ReadContent } from "./plan.ts";
import { writeDirect } from "./direct.ts";
import { writePullRequest } from "./pull_request.ts";
import type { PortalClone } from "./repo.ts";
import type { PortalPulls } from "./pulls.ts";
import type { PortalWrite } from "./report.ts";

/** What the writer is built from. */
export interface PortalWriterOptions {
  cfg: PortalRepoConfig;
  clone: PortalClone;
  mapping: PortalMapping;
  /** Pull-request mode's GitHub client (null in direct mode). */
  pulls: PortalPulls | null;
  read: ReadContent;
  log: Logger;
  clock: Clock;
  /** Called after each write attempt (tests). */
  onWrite?(w: PortalWrite): void | Promise<void>;
}

/** The Portal repository's git writer. */
export class PortalWriter implements Sink {
  readonly name = "portal-repo";
  readonly #o: PortalWriterOptions;
  #request: { marker: GitCommitMarker; files: GitFile[] } | null = null;
  #reports: PortalWrite[] = [];

  constructor(o: PortalWriterOptions) {
    this.#o = o;
  }

  /** Secret-free location of the Portal's repository. */
  get location(): string {
    return this.#o.clone.location;
  }

  /** Asks for `marker` to be written at the next flush (replaces a request not flushed yet). */
  request(marker: GitCommitMarker, files: GitFile[]): void {
    this.#request = { marker, files };
  }

  /** True while a request waits for a flush. */
  get requested(): boolean {
    return this.#request !== null;
  }

  /** The writes finished since the last call, oldest first. */
  takeReports(): PortalWrite[] {
    const out = this.#reports;
    this.#reports = [];
    return out;
  }

  /** Writes the requested revision, if any (checkpoint step 1). Never throws for a failed write. */
  async flush(): Promise<void> {
    const r = this.#request;
    if (!r) return;
    this.#request = null;
    const w = await this.#write(r.marker, r.files);
    const log = this.#o.log;
    if (w.ok) {
      log.info("portal repository written", {
        commit: w.marker.commit,
        outcome: w.result!.outcome,
        portal_commit: w.result!.commit,
        written: w.result!.written.length,
        removed: w.result!.removed.length,
      });
    } else {
      log.warn("portal repository write failed", {
        commit: w.marker.commit,
        retriable: w.retriable,
        error: w.error,
      });
    }
    this.#reports.push(w);
    try {
      await this.#o.onWrite?.(w);
    } catch (err) {
      log.warn("portal onWrite hook failed", { error: describeError(err) });
    }
  }

  /** Closes the clone's handles (the next write opens them again). */
  close(): void {
    this.#o.clone.close();
  }

  async #write(marker: GitCommitMarker, files: GitFile[]): Promise<PortalWrite> {
    const { cfg, clone, pulls, mapping, log } = this.#o;
    const iso = () => new Date(this.#o.clock.now()).toISOString();
    const started_at = iso();
    try {
      const desired = desiredState(files, marker, mapping, cfg.metadata_path, this.#o.read);
      const result = pulls
        ? await writePullRequest(
          {
            base: await clone.open(),
            head: await clone.open(cfg.pr_branch),
            gitdir: clone.gitdir,
            baseBranch: cfg.branch,
            prBranch: cfg.pr_branch,
          },
          pulls,
          mapping,
          desired,
          { author: cfg.author, autoMerge: cfg.auto_merge, mergeMethod: cfg.merge_method },
          log,
        )
        : await writeDirect(await clone.open(), mapping, desired, cfg.author, log);
      return { marker, ok: true, result, started_at, finished_at: iso() };
    } catch (err) {
      // the clone is a cache: anything but a clean refusal from a server may have left it torn, so start over
      const clean = err instanceof LzError &&
        ["PORTAL_CONFLICT", "GITHUB_API", "PORTAL_CONTENT"].includes(err.code);
      if (!clean) await clone.discard().catch(() => {});
      return {
        marker,
        ok: false,
        // final only when the Portal, GitHub or the config said so; anything else (a library tripping over a
        // torn clone, an I/O error) is retried from a fresh clone
        retriable: !(err instanceof LzError) || isRetriable(err),
        error: describeError(err),
        ...(err instanceof LzError ? { error_code: err.code } : {}),
        started_at,
        finished_at: iso(),
      };
    }
  }
}
