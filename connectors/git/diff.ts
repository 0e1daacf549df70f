/**
 * Tree diffs with isomorphic-git's `walk` over two `TREE` walkers: which tracked paths changed between the
 * last synced commit and the new head. Subtrees with identical oids, and directories that cannot hold a
 * tracked path, are pruned, so a small push to a large repo reads only the trees it touched.
 */
import fs from "./fs.ts";
import { readPackedBlob } from "./pack_reader.ts";
import git from "isomorphic-git";
import type { PathMatcher } from "./glob.ts";

/** One changed tracked path. `oid` and `mode` describe the new blob; absent for a removal. */
export interface PathChange {
  path: string;
  op: "added" | "modified" | "removed";
  oid?: string;
  mode?: string;
}

const modeString = (m: number) => m.toString(8).padStart(6, "0");

/**
 * Tracked paths that differ between `from` and `to` (commit shas; null = empty tree, so `from: null` lists
 * every tracked file of `to` as added and `to: null` every file of `from` as removed). Sorted by path.
 */
export async function diffCommits(
  gitdir: string,
  from: string | null,
  to: string | null,
  matcher: PathMatcher,
  cache: object = {},
): Promise<PathChange[]> {
  const trees = [from, to].map((ref) => git.TREE({ ref: ref ?? undefined }));
  if (from === null && to === null) return [];
  const changes: PathChange[] = [];
  const walkTrees = from === null ? [trees[1]] : to === null ? [trees[0]] : trees;
  await git.walk({
    fs,
    gitdir,
    cache,
    trees: walkTrees,
    map: async (path, entries) => {
      const [a, b] = from === null ? [null, entries[0]] : to === null ? [entries[0], null] : entries;
      if (path === ".") return undefined;
      const [ta, tb] = [await a?.type(), await b?.type()];
      if (ta === "tree" || tb === "tree") {
        if (!matcher.mayContain(path)) return null;
        if (ta === "tree" && tb === "tree" && (await a!.oid()) === (await b!.oid())) return null;
      }
      const blobA = ta === "blob" ? a : null;
      const blobB = tb === "blob" ? b : null;
      if (!blobA && !blobB) return undefined; // trees (walked into) or submodules (commits)
      if (!matcher.matches(path)) return undefined;
      if (blobA && !blobB) changes.push({ path, op: "removed" });
      else if (!blobA && blobB) {
        changes.push({ path, op: "added", oid: await blobB.oid(), mode: modeString(await blobB.mode()) });
      } else {
        const [oa, ob, ma, mb] = [
          await blobA!.oid(),
          await blobB!.oid(),
          await blobA!.mode(),
          await blobB!.mode(),
        ];
        if (oa !== ob || ma !== mb) changes.push({ path, op: "modified", oid: ob, mode: modeString(mb) });
      }
      return undefined;
    },
  });
  return changes.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** Every tracked path at `commit` with its blob oid (for reconciling against what the topic holds). */
export async function listTracked(
  gitdir: string,
  commit: string,
  matcher: PathMatcher,
  cache: object = {},
): Promise<Map<string, { oid: string; mode: string }>> {
  const changes = await diffCommits(gitdir, null, commit, matcher, cache);
  return new Map(changes.map((c) => [c.path, { oid: c.oid!, mode: c.mode! }]));
}

/** Reads a blob's bytes. */
/**
 * Each tracked path that a commit on the first-parent line from `head` back to (not including) `prev`
 * changed, with its newest change (the state at `head` unless a later commit removed it): the paths whose
 * last change is new although their blob may be back to what it was at `prev` (changed, then reverted).
 * Null when `prev` is not on that line within `maxCommits` (a force-push, a merge that brought `prev` in as
 * a second parent): the caller compares the whole tree instead.
 */
export async function touchedSince(
  gitdir: string,
  prev: string,
  head: string,
  matcher: PathMatcher,
  cache: object = {},
  maxCommits = 1000,
): Promise<Map<string, PathChange> | null> {
  const out = new Map<string, PathChange>();
  let oid = head;
  for (let i = 0; i < maxCommits && oid !== prev; i++) {
    const { commit } = await git.readCommit({ fs, gitdir, oid, cache });
    const parent = commit.parent[0] ?? null;
    for (const c of await diffCommits(gitdir, parent, oid, matcher, cache)) {
      if (!out.has(c.path)) out.set(c.path, c);
    }
    if (parent === null) return null;
    oid = parent;
  }
  return oid === prev ? out : null;
}

export async function readBlobBytes(gitdir: string, oid: string, cache: object = {}): Promise<Uint8Array> {
  const packed = readPackedBlob(gitdir, oid, cache);
  if (packed) return packed;
  const { blob } = await git.readBlob({ fs, gitdir, oid, cache });
  return blob;
}

/** True when `ancestor` is `commit` or one of its ancestors (false when either is missing locally). */
export async function isAncestor(gitdir: string, ancestor: string, commit: string, cache: object = {}) {
  if (ancestor === commit) return true;
  try {
    return await git.isDescendent({ fs, gitdir, oid: commit, ancestor, depth: -1, cache });
  } catch {
    return false;
  }
}

/** True when the object exists in the local object store. */
export async function hasCommit(gitdir: string, oid: string, cache: object = {}): Promise<boolean> {
  try {
    await git.readCommit({ fs, gitdir, oid, cache });
    return true;
  } catch {
    return false;
  }
}

/** Commit metadata the sync records. */
export async function commitInfo(gitdir: string, oid: string, cache: object = {}) {
  const { commit } = await git.readCommit({ fs, gitdir, oid, cache });
  return {
    time: new Date(commit.committer.timestamp * 1000).toISOString(),
    message: commit.message.slice(0, 2000),
    author: `${commit.author.name} <${commit.author.email}>`,
  };
}
