/**
 * Read and write access to a fabric's git repository with isomorphic-git.
 *
 * - **remote** (http/https smart-HTTP): a bare clone under `<data_dir>/fgd/<fabric>.git`, fetched (single
 *   branch) before each run; commits are built directly as objects (blobs → trees → commit, only the
 *   touched subtrees are rewritten) and pushed without force. A rejected push (someone else pushed first)
 *   is reported as `non-fast-forward` so the caller can fetch, re-plan and retry.
 * - **local** (a path): objects are written into the repo's own gitdir and the branch ref is moved with a
 *   compare-and-swap against the expected head; when the branch is checked out in a worktree, the touched
 *   paths of the worktree and index are updated too, so a later commit made there does not undo ours.
 *
 * A token (`credential_env`) is sent as HTTP Basic `x-access-token:<token>` and never logged.
 */
import fs from "../git/fs.ts";
import { readPackedBlob } from "../git/pack_reader.ts";
import { dirname, join } from "node:path";
import git from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { LzError } from "../../pipeline/errors.ts";
import { localGitdir, redactUrl } from "../git/repo.ts";
import {
  buildPack,
  commitObject,
  type GitObject,
  gitObject,
  type Pack,
  treeObject,
  writePack,
} from "./pack.ts";
import { discover, receivePack } from "./receive_pack.ts";

/** A blob in a listed tree. */
export interface TreeFile {
  oid: string;
  mode: string;
}

/** File changes of one commit, by repo path: content to write, or deletion. */
export interface Changes {
  writes: ReadonlyMap<string, string | Uint8Array>;
  deletes: ReadonlySet<string>;
}

/** Outcome of a push. */
export type PushOutcome = { ok: true } | { ok: false; reason: "non-fast-forward"; detail: string };

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
  /** Creates a commit on `parent` (null: a root commit) with `changes`; does not move any ref. */
  writeCommit(parent: string | null, changes: Changes, message: string, author: Author): Promise<string>;
  /** Moves the remote branch from `expected` (null: must not exist) to `commit`, never forcing. */
  push(commit: string, expected: string | null): Promise<PushOutcome>;
  /** Releases the object cache. */
  close(): void;
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
  /** Directory for the bare clone of a remote repo. */
  gitdir: string;
  token?: string;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === "NotFoundError";
}

/**
 * Builds the tree of `base` with `changes` (blob oid, or null to delete) applied, adding new tree objects to
 * `out`; only touched subtrees are rewritten. Returns null for an empty tree.
 */
async function updateTree(
  gitdir: string,
  cache: object,
  base: string | null,
  changes: Map<string, string | null>,
  out: GitObject[],
): Promise<string | null> {
  const entries = new Map<string, { mode: string; oid: string }>();
  if (base) {
    const { tree } = await git.readTree({ fs, gitdir, oid: base, cache });
    for (const e of tree) entries.set(e.path, { mode: e.mode, oid: e.oid });
  }
  const sub = new Map<string, Map<string, string | null>>();
  for (const [path, oid] of changes) {
    const i = path.indexOf("/");
    if (i < 0) {
      if (oid === null) entries.delete(path);
      else entries.set(path, { mode: "100644", oid });
      continue;
    }
    const dir = path.slice(0, i);
    if (!sub.has(dir)) sub.set(dir, new Map());
    sub.get(dir)!.set(path.slice(i + 1), oid);
  }
  for (const [dir, ch] of sub) {
    const prior = entries.get(dir);
    const oid = await updateTree(gitdir, cache, prior?.mode === "040000" ? prior.oid : null, ch, out);
    if (oid === null) entries.delete(dir);
    else entries.set(dir, { mode: "040000", oid });
  }
  if (entries.size === 0) return null;
  const tree = treeObject([...entries].map(([path, e]) => ({ path, ...e })));
  out.push(tree);
  return tree.oid;
}

async function subtree(gitdir: string, cache: object, commit: string, dir: string): Promise<string | null> {
  const { commit: c } = await git.readCommit({ fs, gitdir, oid: commit, cache });
  let oid = c.tree;
  for (const seg of dir.split("/").filter(Boolean)) {
    const { tree } = await git.readTree({ fs, gitdir, oid, cache });
    const e = tree.find((t) => t.path === seg && t.type === "tree");
    if (!e) return null;
    oid = e.oid;
  }
  return oid;
}

async function listBlobs(
  gitdir: string,
  cache: object,
  tree: string,
  prefix: string,
  out: Map<string, TreeFile>,
) {
  const { tree: entries } = await git.readTree({ fs, gitdir, oid: tree, cache });
  for (const e of entries) {
    if (e.type === "tree") await listBlobs(gitdir, cache, e.oid, `${prefix}${e.path}/`, out);
    else if (e.type === "blob") out.set(prefix + e.path, { oid: e.oid, mode: e.mode });
  }
}

/** Opens a fabric repository (see the module doc for local vs remote). */
export async function openFabricRepo(o: OpenFabricRepoOptions): Promise<FabricRepo> {
  const remote = isUrl(o.repo);
  const gitdir = remote ? o.gitdir : await localGitdir(o.repo);
  const worktree = !remote && gitdir.endsWith("/.git") ? dirname(gitdir) : undefined;
  const location = remote ? redactUrl(o.repo) : o.repo;
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Basic ${btoa(`x-access-token:${o.token}`)}`;
  const ref = `refs/heads/${o.branch}`;
  let cache: object = {};
  const packs = new Map<string, Pack>();

  const wrap = (what: string, err: unknown) => {
    const e = err as { data?: { statusCode?: number }; message?: string };
    const status = e?.data?.statusCode;
    const hint = status === 401 || status === 403
      ? "check the token in the fabric's credential_env"
      : status === 404
      ? "check the fabric's repo URL"
      : `is the git server reachable? (${String(e?.message ?? err).split("\n")[0]})`;
    return new LzError("GIT", `cannot ${what} ${location}${status ? ` (HTTP ${status})` : ""}: ${hint}`, {
      cause: err,
      retriable: status === undefined || status >= 500,
    });
  };

  const localHead = async () => {
    try {
      return await git.resolveRef({ fs, gitdir, ref });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  };

  return {
    kind: remote ? "remote" : "local",
    location,
    async fetch() {
      if (!remote) return await localHead();
      if (!fs.existsSync(join(gitdir, "HEAD"))) {
        await Deno.mkdir(gitdir, { recursive: true });
        await git.init({ fs, gitdir, bare: true, defaultBranch: o.branch });
        await git.addRemote({ fs, gitdir, remote: "origin", url: o.repo, force: true });
      }
      let refs;
      try {
        refs = await git.listServerRefs({ http, url: o.repo, headers, prefix: ref, protocolVersion: 1 });
      } catch (err) {
        throw wrap("list refs of", err);
      }
      const head = refs.find((r) => r.ref === ref)?.oid ?? null;
      if (head === null) return null;
      try {
        await git.fetch({
          fs,
          http,
          gitdir,
          url: o.repo,
          headers,
          cache,
          ref: o.branch,
          remoteRef: o.branch,
          singleBranch: true,
          tags: false,
        });
      } catch (err) {
        throw wrap("fetch", err);
      }
      return head;
    },
    async listTree(commit, dir) {
      const out = new Map<string, TreeFile>();
      const oid = await subtree(gitdir, cache, commit, dir);
      if (oid) await listBlobs(gitdir, cache, oid, "", out);
      return out;
    },
    treeOid(commit, dir) {
      return subtree(gitdir, cache, commit, dir);
    },
    async readBlob(oid) {
      return readPackedBlob(gitdir, oid, cache) ?? (await git.readBlob({ fs, gitdir, oid, cache })).blob;
    },
    async writeCommit(parent, changes, message, author) {
      const objects: GitObject[] = [];
      const byPath = new Map<string, string | null>();
      for (const [path, content] of changes.writes) {
        const blob = gitObject("blob", content);
        objects.push(blob);
        byPath.set(path, blob.oid);
      }
      for (const path of changes.deletes) if (!byPath.has(path)) byPath.set(path, null);
      const base = parent ? (await git.readCommit({ fs, gitdir, oid: parent, cache })).commit.tree : null;
      let tree = await updateTree(gitdir, cache, base, byPath, objects);
      if (tree === null) {
        const empty = treeObject([]);
        objects.push(empty);
        tree = empty.oid;
      }
      const commit = commitObject({
        tree,
        parents: parent ? [parent] : [],
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
        const current = await localHead();
        if (current !== expected) {
          return {
            ok: false,
            reason: "non-fast-forward",
            detail: `${o.branch} moved to ${current ?? "nothing"}`,
          };
        }
        await git.writeRef({ fs, gitdir, ref, value: commit, force: true });
        if (worktree) await syncWorktree(worktree, gitdir, expected, commit, o.branch, cache);
        return { ok: true };
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
      for (const r of [ref, `refs/remotes/origin/${o.branch}`]) {
        await git.writeRef({ fs, gitdir, ref: r, value: commit, force: true });
      }
      return { ok: true };
    },
    close() {
      cache = {};
    },
  };
}

/** Brings the worktree and index of a checked-out branch to `to` for the paths that differ from `from`. */
async function syncWorktree(
  dir: string,
  gitdir: string,
  from: string | null,
  to: string,
  branch: string,
  cache: object,
): Promise<void> {
  const head = await git.currentBranch({ fs, gitdir, fullname: false }).catch(() => undefined);
  if (head !== branch) return;
  const before = new Map<string, TreeFile>();
  if (from) {
    await listBlobs(
      gitdir,
      cache,
      (await git.readCommit({ fs, gitdir, oid: from, cache })).commit.tree,
      "",
      before,
    );
  }
  const after = new Map<string, TreeFile>();
  await listBlobs(
    gitdir,
    cache,
    (await git.readCommit({ fs, gitdir, oid: to, cache })).commit.tree,
    "",
    after,
  );
  const added: string[] = [];
  for (const [path, f] of after) {
    if (before.get(path)?.oid === f.oid) continue;
    const full = join(dir, path);
    await Deno.mkdir(dirname(full), { recursive: true });
    await Deno.writeFile(full, (await git.readBlob({ fs, gitdir, oid: f.oid, cache })).blob);
    added.push(path);
  }
  if (added.length) await git.add({ fs, dir, gitdir, filepath: added, cache });
  for (const path of before.keys()) {
    if (after.has(path)) continue;
    await Deno.remove(join(dir, path)).catch(() => {});
    await git.remove({ fs, dir, gitdir, filepath: path, cache });
  }
}
