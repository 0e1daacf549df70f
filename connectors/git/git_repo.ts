/**
 * Read and write access to a fabric's git repository. lzsync always works in its own bare clone under
 * `<data_dir>/fgd/<fabric>.git` and pushes from there; it never shares a worktree or an index with a user.
 *
 * - **remote** (http/https smart-HTTP, isomorphic-git): the clone is fetched (single branch) before each
 *   run; commits are built directly as objects (blobs → trees → commit, only the touched subtrees are
 *   rewritten) and pushed without force. A rejected push (someone else pushed first) is reported as
 *   `non-fast-forward` so the caller can fetch, re-plan and retry.
 * - **local** (a path): fetched and pushed with the git command-line tool (`../git/cli.ts`, `local_push.ts`),
 *   so every write into the user's repository is git's own: the branch moves by compare-and-swap under
 *   `<ref>.lock` on the head the run was planned on, and when the branch is checked out its worktree is
 *   updated under the worktree's `index.lock`, held through the ref update and a moment after
 *   (`local_push.ts`) — keeping the user's changes in paths the run does not write, refusing (a failed run
 *   that touched nothing) when the run writes a path the user changed. A path that is not (or no longer) a
 *   git repository is a failed run, never an empty branch.
 *
 * Writes into lzsync's own clone are atomic too: packs are written to a temp file and renamed, `.pack`
 * before `.idx`; refs through a `<ref>.lock` renamed over the ref.
 *
 * A token (`credential_env`) is sent as HTTP Basic `x-access-token:<token>` and never logged.
 */
import { crashPoint } from "../../pipeline/crash_point.ts";
import fs from "./fs.ts";
import { readPackedBlob } from "./pack_reader.ts";
import { join, resolve } from "node:path";
import git from "isomorphic-git";
import { LzError } from "../../pipeline/errors.ts";
import { localGitdir, redactUrl } from "./repo.ts";
import { stripUrlCredentials } from "../../pipeline/redact.ts";
import {
  buildPack,
  commitObject,
  type GitObject,
  gitObject,
  type Pack,
  type TreeEntry,
  treeObject,
  writePack,
} from "./pack.ts";
import { discover, receivePack } from "./receive_pack.ts";
import { discoverUpload, indexPack, requestPack } from "./upload_pack.ts";
import { gitReason, runGit } from "./cli.ts";
import { type PushOutcome, pushToLocal } from "./local_push.ts";
export type { PushOutcome } from "./local_push.ts";
import { clearStaleLocks, writeRefAtomic } from "./ref_file.ts";

/** A blob in a listed tree. */
export interface TreeFile {
  oid: string;
  mode: string;
}

/** File changes of one commit, by repo path: content to write, or deletion. */
export interface Changes {
  writes: ReadonlyMap<string, string | Uint8Array>;
  deletes: ReadonlySet<string>;
  /** Git blob ids of (some of) the writes by path, when the caller already computed them. */
  ids?: ReadonlyMap<string, string>;
}

/** The git operations the FGD needs. */
export interface FabricRepo {
  readonly kind: "local" | "remote";
  /** Secret-free location for logs and the API. */
  readonly location: string;
  /** Brings the branch up to date; its head, or null when the branch does not exist. */
  fetch(): Promise<string | null>;
  /** Blobs under `dir` at `commit`, by path relative to `dir` (empty when `dir` does not exist). */
  listTree(commit: string, dir: string): Promise<Map<string, TreeFile>>;
  /** Tree id of `dir` at `commit`, or null when absent. */
  treeOid(commit: string, dir: string): Promise<string | null>;
  readBlob(oid: string): Promise<Uint8Array>;
  /**
   * Creates a commit on `parent` (null: a root commit) with `changes` applied to `parent`'s tree; does not
   * move any ref. `mergeParents` are further parents (a merge commit that keeps their history reachable).
   */
  writeCommit(
    parent: string | null,
    changes: Changes,
    message: string,
    author: Author,
    mergeParents?: readonly string[],
  ): Promise<string>;
  /** Moves the remote branch from `expected` (null: must not exist) to `commit`, never forcing. */
  push(commit: string, expected: string | null): Promise<PushOutcome>;
  /** Releases the object cache. */
  close(): void;
  /**
   * Drops lzsync's own clone (a cache of the repository: the next fetch rebuilds it), after a failure that
   * says the clone itself is damaged, e.g. a pack index a kill cut short. Never touches the user's repo.
   */
  reset(): Promise<void>;
}

/** Commit author/committer. */
export interface Author {
  name: string;
  email: string;
}

/** Options of {@link openFabricRepo}. */
export interface OpenFabricRepoOptions {
  /** URL (http/https) or local path. */
  repo: string;
  branch: string;
  /** Directory of lzsync's own bare clone of the repo. */
  gitdir: string;
  token?: string;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** An entry of a tree object as isomorphic-git reads it. */
type TreeObjectEntry = { mode: string; path: string; oid: string; type: string };
/** Reads the entries of the tree `oid` (see `readTreeCached` in {@link openFabricRepo}). */
type TreeReader = (oid: string) => Promise<readonly TreeObjectEntry[]>;

/**
 * Blob bytes of a fetched pack kept in memory until the next fetch (a larger pack keeps none: its blobs are
 * read back from the pack file as before).
 */
const FETCHED_BLOB_BYTES = 32 * 1024 * 1024;

/** Tree entries kept in a repo handle's tree cache before it starts over (bounds its memory). */
const MAX_CACHED_TREE_ENTRIES = 200_000;

/**
 * Builds the tree of `base` with `changes` (blob oid, or null to delete) applied, adding new tree objects to
 * `out` (depth first, children in the order their first path appears); only touched subtrees are rewritten.
 * Returns null for an empty tree. Each path is split once (into its directory and name), not once per level.
 */
async function updateTree(
  readTree: TreeReader,
  base: string | null,
  changes: Map<string, string | null>,
  out: GitObject[],
): Promise<string | null> {
  const files = new Map<string, Map<string, string | null>>(); // directory → name → oid (null: delete)
  const children = new Map<string, Set<string>>(); // directory → names of its touched subdirectories
  const touch = (dir: string) => {
    while (dir !== "") {
      const j = dir.lastIndexOf("/");
      const parent = j < 0 ? "" : dir.slice(0, j);
      let names = children.get(parent);
      if (!names) children.set(parent, names = new Set());
      const name = dir.slice(j + 1);
      if (names.has(name)) return; // and so its ancestors
      names.add(name);
      dir = parent;
    }
  };
  for (const [path, oid] of changes) {
    const i = path.lastIndexOf("/");
    const dir = i < 0 ? "" : path.slice(0, i);
    let m = files.get(dir);
    if (!m) {
      files.set(dir, m = new Map());
      touch(dir);
    }
    m.set(path.slice(i + 1), oid);
  }
  const build = async (dir: string, prior: string | null): Promise<string | null> => {
    const entries = new Map<string, { mode: string; oid: string }>();
    if (prior) {
      for (const e of await readTree(prior)) entries.set(e.path, { mode: e.mode, oid: e.oid });
    }
    for (const [name, oid] of files.get(dir) ?? []) {
      if (oid === null) entries.delete(name);
      else entries.set(name, { mode: "100644", oid });
    }
    for (const name of children.get(dir) ?? []) {
      const e = entries.get(name);
      const oid = await build(dir ? `${dir}/${name}` : name, e?.mode === "040000" ? e.oid : null);
      if (oid === null) entries.delete(name);
      else entries.set(name, { mode: "040000", oid });
    }
    if (entries.size === 0) return null;
    const list: TreeEntry[] = [];
    for (const [path, e] of entries) list.push({ path, mode: e.mode, oid: e.oid });
    const tree = treeObject(list);
    out.push(tree);
    return tree.oid;
  };
  return await build("", base);
}

async function subtree(
  gitdir: string,
  cache: object,
  readTree: TreeReader,
  commit: string,
  dir: string,
): Promise<string | null> {
  const { commit: c } = await git.readCommit({ fs, gitdir, oid: commit, cache });
  let oid = c.tree;
  for (const seg of dir.split("/").filter(Boolean)) {
    const e = (await readTree(oid)).find((t) => t.path === seg && t.type === "tree");
    if (!e) return null;
    oid = e.oid;
  }
  return oid;
}

async function listBlobs(
  readTree: TreeReader,
  tree: string,
  prefix: string,
  out: Map<string, TreeFile>,
) {
  for (const e of await readTree(tree)) {
    if (e.type === "tree") await listBlobs(readTree, e.oid, `${prefix}${e.path}/`, out);
    else if (e.type === "blob") out.set(prefix + e.path, { oid: e.oid, mode: e.mode });
  }
}

/**
 * Removes credentials written inside URLs from the own clone's files that quote the remote (`config`'s
 * remote URL, `FETCH_HEAD`), as older versions stored a registration's `user:password@` URL there. Each file
 * is replaced atomically; returns the files changed.
 */
export async function scrubGitdirCredentials(gitdir: string): Promise<string[]> {
  const changed: string[] = [];
  for (const name of ["config", "FETCH_HEAD"]) {
    const file = join(gitdir, name);
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch {
      continue;
    }
    const clean = stripUrlCredentials(text);
    if (clean === text) continue;
    const tmp = `${file}.lzsync-scrub`;
    await Deno.writeTextFile(tmp, clean);
    await Deno.rename(tmp, file);
    changed.push(name);
  }
  return changed;
}

/** Opens a fabric repository (see the module doc for local vs remote). */
export function openFabricRepo(o: OpenFabricRepoOptions): Promise<FabricRepo> {
  const remote = isUrl(o.repo);
  const gitdir = o.gitdir;
  const localPath = remote ? "" : resolve(o.repo.replace(/^file:\/\//, ""));
  const location = remote ? redactUrl(o.repo) : localPath;
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Basic ${btoa(`x-access-token:${o.token}`)}`;
  const ref = `refs/heads/${o.branch}`;
  const tracking = `refs/remotes/origin/${o.branch}`;
  let cache: object = {};
  const packs = new Map<string, Pack>();
  // The blobs of the pack the last fetch received (a drop's files, read next by the run's snapshot): indexing
  // the pack inflated them already, so they are not read back from it and inflated again.
  let fetched: Map<string, Uint8Array> | undefined;
  // Trees by oid (immutable content): a run lists the fabric directory, then rebuilds the same trees for
  // its commit; each tree is read and parsed once.
  const trees = new Map<string, readonly TreeObjectEntry[]>();
  let treeEntries = 0;
  const readTreeCached: TreeReader = async (oid) => {
    let t = trees.get(oid);
    if (!t) {
      t = Object.freeze((await git.readTree({ fs, gitdir, oid, cache })).tree);
      if (treeEntries + t.length > MAX_CACHED_TREE_ENTRIES) {
        trees.clear();
        treeEntries = 0;
      }
      trees.set(oid, t);
      treeEntries += t.length;
    }
    return t;
  };

  const wrap = (what: string, err: unknown) => {
    const e = err as { data?: { statusCode?: number }; message?: string };
    const status = e?.data?.statusCode;
    const hint = status === 401 || status === 403
      ? "check the token of the fabric's credential (or credential_env)"
      : status === 404
      ? "check the fabric's repo URL"
      : `is the git server reachable? (${String(e?.message ?? err).split("\n")[0]})`;
    return new LzError("GIT", `cannot ${what} ${location}${status ? ` (HTTP ${status})` : ""}: ${hint}`, {
      cause: err,
      retriable: status === undefined || status >= 500,
    });
  };

  /** True when the clone holds the commit `oid` (and so, packs being written whole, all it reaches). */
  const hasCommit = async (oid: string): Promise<boolean> => {
    try {
      await git.readCommit({ fs, gitdir, oid, cache });
      return true;
    } catch {
      return false;
    }
  };

  let swept = false;
  const ensureClone = async () => {
    if (!swept) {
      swept = true;
      await clearStaleLocks(gitdir);
    }
    if (fs.existsSync(join(gitdir, "HEAD"))) return;
    await Deno.mkdir(gitdir, { recursive: true });
    await git.init({ fs, gitdir, bare: true, defaultBranch: o.branch });
    if (remote) await git.addRemote({ fs, gitdir, remote: "origin", url: o.repo, force: true });
  };

  /** Local: fetches the branch of the user's repo into the own clone with git; its head or null. */
  const fetchLocal = async (): Promise<string | null> => {
    await localGitdir(o.repo, "the fabric's repo");
    await ensureClone();
    const run = await runGit([
      `--git-dir=${gitdir}`,
      // no auto-gc in the own clone: the pack reader holds its packs open across a run
      "-c",
      "gc.auto=0",
      "-c",
      "maintenance.auto=false",
      "fetch",
      "--quiet",
      "--no-tags",
      "--no-write-fetch-head",
      localPath,
      `+${ref}:${tracking}`,
    ]);
    if (!run.ok) {
      if (/couldn't find remote ref/i.test(run.stderr)) return null;
      const clone = /objects\/pack|index file|bad object|corrupt|unable to read|not a git repository/i.test(
        run.stderr.replaceAll(localPath, ""),
      );
      throw new LzError(
        clone ? "GIT_CLONE" : "GIT",
        `cannot fetch ${o.branch} from ${location}: ${gitReason(run)}`,
        {
          retriable: true,
        },
      );
    }
    const head = await runGit([
      `--git-dir=${gitdir}`,
      "rev-parse",
      "--verify",
      "--quiet",
      `${tracking}^{commit}`,
    ]);
    if (!head.ok) throw new LzError("GIT", `fetched ${o.branch} from ${location} but cannot read its head`);
    return head.stdout.trim();
  };

  /** Local: pushes `commit` onto the user's branch with git (compare-and-swap on `expected`). */
  const pushLocal = async (commit: string, expected: string | null): Promise<PushOutcome> => {
    const userGitdir = await localGitdir(o.repo, "the fabric's repo");
    const locked = (what: string) =>
      new LzError(
        "GIT_LOCKED",
        `cannot update ${o.branch} in ${location}: another git command holds ${what}; ` +
          "nothing was changed, the next trigger retries",
        { retriable: true },
      );
    // git's own protocol: a held lock means a git command is running there; wait for it, touch nothing
    if (fs.existsSync(join(userGitdir, "index.lock"))) throw locked("its index.lock");
    if (fs.existsSync(join(userGitdir, `${ref}.lock`))) throw locked(`${ref}.lock`);
    return await pushToLocal({
      ownGitdir: gitdir,
      localPath,
      userGitdir,
      branch: o.branch,
      commit,
      expected,
      location,
    });
  };

  return Promise.resolve({
    kind: remote ? "remote" : "local",
    location,
    async fetch() {
      fetched = undefined;
      if (!remote) return await fetchLocal();
      await ensureClone();
      let adv;
      try {
        adv = await discoverUpload(o.repo, ref, headers);
      } catch (err) {
        throw wrap("list refs of", err);
      }
      const head = adv.oid;
      if (head === null) return null;
      if (!(await hasCommit(head))) {
        // the commits the clone has with everything they reach (packs are written whole, refs after them)
        const haves: string[] = [];
        for (const r of [tracking, ref]) {
          const oid = await git.resolveRef({ fs, gitdir, ref: r }).catch(() => null);
          if (oid && !haves.includes(oid) && (await hasCommit(oid))) haves.push(oid);
        }
        let received: Uint8Array;
        try {
          received = await requestPack(o.repo, headers, head, haves, adv.capabilities);
        } catch (err) {
          throw wrap("fetch", err);
        }
        let pack;
        try {
          pack = indexPack(received, FETCHED_BLOB_BYTES);
        } catch (err) {
          throw new LzError(
            "GIT",
            `cannot fetch ${location}: the server sent a damaged pack (${(err as Error).message})`,
            {
              cause: err,
              retriable: true,
            },
          );
        }
        if (received.length > 32) await writePack(gitdir, pack); // an empty pack is its header and trailer
        fetched = pack.blobs;
        if (!(await hasCommit(head))) {
          throw new LzError("GIT", `cannot fetch ${location}: the server's pack lacks the head ${head}`, {
            retriable: true,
          });
        }
      }
      await writeRefAtomic(gitdir, tracking, head);
      return head;
    },
    async listTree(commit, dir) {
      const out = new Map<string, TreeFile>();
      const oid = await subtree(gitdir, cache, readTreeCached, commit, dir);
      if (oid) await listBlobs(readTreeCached, oid, "", out);
      return out;
    },
    treeOid(commit, dir) {
      return subtree(gitdir, cache, readTreeCached, commit, dir);
    },
    async readBlob(oid) {
      return fetched?.get(oid) ?? readPackedBlob(gitdir, oid, cache) ??
        (await git.readBlob({ fs, gitdir, oid, cache })).blob;
    },
    async writeCommit(parent, changes, message, author, mergeParents = []) {
      const objects: GitObject[] = [];
      const byPath = new Map<string, string | null>();
      for (const [path, content] of changes.writes) {
        const blob = gitObject("blob", content, changes.ids?.get(path));
        objects.push(blob);
        byPath.set(path, blob.oid);
      }
      for (const path of changes.deletes) if (!byPath.has(path)) byPath.set(path, null);
      const base = parent ? (await git.readCommit({ fs, gitdir, oid: parent, cache })).commit.tree : null;
      let tree = await updateTree(readTreeCached, base, byPath, objects);
      if (tree === null) {
        const empty = treeObject([]);
        objects.push(empty);
        tree = empty.oid;
      }
      const commit = commitObject({
        tree,
        parents: parent ? [parent, ...mergeParents] : [...mergeParents],
        author,
        timestamp: Math.floor(Date.now() / 1000),
        message,
      });
      objects.push(commit);
      const pack = buildPack(objects);
      await writePack(gitdir, pack);
      packs.set(commit.oid, pack);
      return commit.oid;
    },
    async push(commit, expected) {
      if (!remote) {
        const pushed = await pushLocal(commit, expected);
        if (pushed.ok) {
          crashPoint("fgd:after-push");
          packs.delete(commit);
          for (const r of [ref, tracking]) await writeRefAtomic(gitdir, r, commit);
        }
        return pushed;
      }
      const pack = packs.get(commit);
      if (!pack) throw new RangeError(`push of ${commit}: the commit was not written by this repo handle`);
      try {
        const adv = await discover(o.repo, ref, headers);
        if (adv.oid !== expected) {
          return {
            ok: false,
            reason: "non-fast-forward",
            detail: `${o.branch} is at ${adv.oid ?? "nothing"} on the server`,
          };
        }
        const res = await receivePack(
          o.repo,
          headers,
          { old: expected, new: commit, ref },
          pack.pack,
          adv.capabilities,
        );
        if (!res.ok) {
          if (
            /fast-forward|fetch first|stale|failed to (update|lock)|cannot lock|already exists/i.test(
              res.reason,
            )
          ) {
            return { ok: false, reason: "non-fast-forward", detail: res.reason };
          }
          throw new LzError("GIT_PUSH", `push to ${location} was rejected: ${res.reason}`);
        }
      } catch (err) {
        if (err instanceof LzError) throw err;
        throw wrap("push to", err);
      } finally {
        packs.delete(commit);
      }
      crashPoint("fgd:after-push");
      for (const r of [ref, tracking]) await writeRefAtomic(gitdir, r, commit);
      return { ok: true };
    },
    async reset() {
      cache = {};
      fetched = undefined;
      trees.clear();
      treeEntries = 0;
      packs.clear();
      swept = false;
      await Deno.remove(gitdir, { recursive: true }).catch(() => {});
    },
    close() {
      cache = {};
      fetched = undefined;
      trees.clear();
      treeEntries = 0;
    },
  });
}
