/**
 * One ingestion run of a fabric: fetch → read the fabric directory at the head → plan (pure) → one commit →
 * push to the branch. On a non-fast-forward the run fetches the new head, plans again from scratch and
 * retries (bounded): the plan is always computed against the commit it is pushed onto, so a concurrent
 * change is never overwritten. Raw files are only ever deleted by the same commit that writes their
 * content elsewhere; when the final push fails the remote is untouched and nothing is lost.
 */
import { crashPoint } from "../../pipeline/crash_point.ts";
import { describeError, LzError } from "../../pipeline/errors.ts";
import { commitMessage } from "../../processors/fgd/plan_message.ts";
import { planIngestion } from "../../processors/fgd/plan.ts";
import type { Plan } from "../../processors/fgd/plan_types.ts";
import type { ParseLimits } from "../../processors/fgd/parse_file.ts";
import { type FileRef, newPlanCache, type PlanCache } from "../../processors/fgd/snapshot.ts";
import type { Validator } from "../../processors/fgd/validate.ts";
import { MANAGED } from "../../processors/fgd/layout.ts";
import type { Author, FabricRepo } from "../../connectors/git/git_repo.ts";
import { readCrdFiles, ValidatorCache } from "./crd_source.ts";

/** The Hedgehog CRDs shipped with lzsync (absolute path), used when a Hedgehog fabric names no `crd_dirs`. */
export const BUNDLED_HEDGEHOG_CRDS =
  new URL("../../deploy/sample-lz/fabrics/crds/hedgehog", import.meta.url).pathname;

/** What a run needs to know about its fabric. */
export interface FabricSpec {
  id: string;
  branch: string;
  /** GitOps directory inside the repo, without leading or trailing slash ("" for the repo root). */
  path: string;
  crd_dirs: readonly string[];
  rule_packs: readonly string[];
}

/** Per-fabric state kept across runs. */
export class FabricGit {
  readonly validators = new ValidatorCache();
  cache: PlanCache = newPlanCache();
  constructor(readonly spec: FabricSpec, readonly repo: FabricRepo, readonly author: Author) {}

  /** Repo path of a fabric-relative path. */
  repoPath(p: string): string {
    return this.spec.path ? `${this.spec.path}/${p}` : p;
  }

  /** The validator at `commit` (CRDs from the repo at that commit); resets parse caches when it changed. */
  async validatorAt(commit: string | null): Promise<Validator> {
    return (await this.validatorChange(commit)).validator;
  }

  /**
   * Like {@link validatorAt}, also telling whether the validator changed since the last call. A fabric
   * without `crd_dirs` that uses the Hedgehog rule pack gets the Hedgehog CRDs shipped with lzsync.
   */
  async validatorChange(commit: string | null): Promise<{ validator: Validator; changed: boolean }> {
    const dirs = this.spec.crd_dirs.length
      ? this.spec.crd_dirs
      : this.spec.rule_packs.includes("hedgehog")
      ? [BUNDLED_HEDGEHOG_CRDS]
      : [];
    const { files, problems } = await readCrdFiles(this.repo, commit, dirs);
    const r = this.validators.get(files, this.spec.rule_packs, problems);
    if (r.changed) this.cache = newPlanCache();
    return r;
  }

  /** The fabric directory at `commit`, reading only contents the planner cannot take from its cache. */
  async snapshot(commit: string | null): Promise<Map<string, FileRef>> {
    const out = new Map<string, FileRef>();
    if (!commit) return out;
    const tree = await this.repo.listTree(commit, this.spec.path);
    const reads: Promise<void>[] = [];
    for (const [path, f] of tree) {
      if (f.mode === "120000" || f.mode === "160000") continue; // symlinks and submodules are left alone
      const ref: FileRef = { id: f.oid };
      out.set(path, ref);
      if (path.startsWith(MANAGED) && this.cache.managed.has(f.oid)) continue;
      reads.push(this.repo.readBlob(f.oid).then((b) => void (ref.bytes = b)));
      if (reads.length >= 64) await Promise.all(reads.splice(0));
    }
    await Promise.all(reads);
    return out;
  }
}

/** What one run did. */
export interface IngestResult {
  outcome: "committed" | "unchanged" | "failed";
  /** Head the final plan was computed against. */
  base: string | null;
  /** The pushed commit (committed) or null. */
  commit: string | null;
  attempts: number;
  /** Absent when the run was skipped because nothing changed since `lastTree`. */
  plan?: Plan;
  error?: string;
  message?: string;
  /** Tree id of the fabric directory after the run (pass it back as `lastTree`). */
  tree?: string | null;
  validator?: Validator;
  /** Wall time of each phase in ms, summed over attempts (see {@link IngestTimings}). */
  timings: IngestTimings;
}

/** Wall time in ms that one run spent in each phase, summed over its push attempts. */
export interface IngestTimings {
  /** Fetching the branch and reading the CRDs (validator). */
  fetch: number;
  /** Listing and reading the fabric directory. */
  snapshot: number;
  /** Parsing, validating, normalizing and planning. */
  planning: number;
  /** Hashing, deflating and writing the objects and the commit. */
  commit: number;
  push: number;
}

/** Phases of a run, reported to {@link IngestOptions.onPhase}. */
export type IngestPhase = "fetching" | "planning" | "committing" | "pushing" | "retrying";

/** Options of {@link runIngestion}. */
export interface IngestOptions {
  /** Push attempts before giving up (default 5). */
  maxAttempts?: number;
  limits?: ParseLimits;
  /**
   * Tree id of the fabric directory after the previous run: when the head still has it and the CRDs did
   * not change, the run ends as `unchanged` without reading the directory.
   */
  lastTree?: string | null;
  /** Progress callback; awaited, so tests can act between phases (e.g. race a push). */
  onPhase?(phase: IngestPhase, detail: string): void | Promise<void>;
}

/** Runs one ingestion of the fabric (see the module doc). Never throws: failures are an outcome. */
export async function runIngestion(fg: FabricGit, options: IngestOptions = {}): Promise<IngestResult> {
  const r = await _ingest(fg, options);
  if (r.outcome !== "failed" || !r.cloneDamaged) return r;
  // lzsync's own clone is a cache: drop it and run once more from a fresh fetch
  await options.onPhase?.("retrying", `own clone of ${fg.repo.location} is damaged; fetching it again`);
  await fg.repo.reset();
  fg.cache = newPlanCache();
  const again = await _ingest(fg, options);
  delete again.cloneDamaged;
  return again;
}

/** True when `err` says that lzsync's own clone (not the user's repository or the network) is damaged. */
function _cloneDamaged(err: unknown): boolean {
  if (err instanceof LzError) return err.code === "GIT_CLONE";
  return true; // a parse failure inside the clone (RangeError, isomorphic-git's InternalError, ...)
}

async function _ingest(
  fg: FabricGit,
  options: IngestOptions,
): Promise<IngestResult & { cloneDamaged?: boolean }> {
  const maxAttempts = options.maxAttempts ?? 5;
  const phase = options.onPhase ?? (() => {});
  const timings: IngestTimings = { fetch: 0, snapshot: 0, planning: 0, commit: 0, push: 0 };
  let mark = performance.now();
  const lap = (k: keyof IngestTimings) => {
    const now = performance.now();
    timings[k] += now - mark;
    mark = now;
  };
  let base: string | null = null;
  let attempts = 0;
  let plan: Plan | undefined;
  try {
    while (attempts < maxAttempts) {
      attempts++;
      await phase("fetching", fg.repo.location);
      mark = performance.now();
      base = await fg.repo.fetch();
      const { validator, changed } = await fg.validatorChange(base);
      lap("fetch");
      if (validator.crds.kinds.size === 0) {
        return {
          outcome: "failed",
          base,
          commit: null,
          attempts,
          timings,
          error:
            `no CRD found for fabric ${fg.spec.id} (${
              fg.validators.problems.join("; ") || "crd_dirs is empty"
            }); ` +
            "set fabrics[].crd_dirs to the directories holding your CRD files — nothing was ingested or moved",
        };
      }
      const tree = base ? await fg.repo.treeOid(base, fg.spec.path) : null;
      if (!changed && options.lastTree !== undefined && tree === options.lastTree && attempts === 1) {
        return { outcome: "unchanged", base, commit: null, attempts, tree, validator, timings };
      }
      const snap = await fg.snapshot(base);
      lap("snapshot");
      await phase("planning", `${snap.size} files at ${base?.slice(0, 12) ?? "(empty branch)"}`);
      mark = performance.now();
      plan = planIngestion(snap, {
        fabricId: fg.spec.id,
        validator,
        cache: fg.cache,
        limits: options.limits,
      });
      lap("planning");
      if (!plan.changed) {
        return { outcome: "unchanged", base, commit: null, attempts, plan, tree, validator, timings };
      }
      const message = commitMessage(fg.spec.id, fg.spec.path, plan);
      await phase("committing", `${plan.writes.size} writes, ${plan.deletes.size} deletions`);
      mark = performance.now();
      const writes = new Map([...plan.writes].map(([p, c]) => [fg.repoPath(p), c]));
      const deletes = new Set([...plan.deletes].map((p) => fg.repoPath(p)));
      const ids = new Map([...plan.writeIds].map(([p, id]) => [fg.repoPath(p), id]));
      const commit = await fg.repo.writeCommit(base, { writes, deletes, ids }, message, fg.author);
      lap("commit");
      crashPoint("fgd:after-commit-before-push");
      await phase("pushing", commit);
      mark = performance.now();
      const pushed = await fg.repo.push(commit, base);
      lap("push");
      if (pushed.ok) {
        return {
          outcome: "committed",
          base,
          commit,
          attempts,
          plan,
          message,
          tree: await fg.repo.treeOid(commit, fg.spec.path),
          validator,
          timings,
        };
      }
      await phase("retrying", `push rejected (${pushed.detail}); fetching the new head`);
    }
    return {
      outcome: "failed",
      base,
      commit: null,
      attempts,
      plan,
      timings,
      error:
        `the branch ${fg.spec.branch} kept moving: ${attempts} pushes were rejected as non-fast-forward; ` +
        "nothing was changed or deleted, the next trigger retries",
    };
  } catch (err) {
    return {
      outcome: "failed",
      base,
      commit: null,
      attempts,
      plan,
      timings,
      error: `${describeError(err)}; nothing was changed or deleted in the repository`,
      cloneDamaged: _cloneDamaged(err),
    };
  }
}
