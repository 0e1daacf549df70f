/**
 * The commit that last changed each of a set of paths, as `git log -1 --first-parent -- <path>` answers it:
 * walk the first-parent history from the head and diff each commit's tree against its parent's, only into
 * the subtrees that hold a path still unresolved and whose tree ids differ. A path unchanged since the root
 * commit is attributed to the root; when a parent is missing from the object store (a shallow copy), the
 * remaining paths are attributed to the oldest commit that could be read.
 */
import fs from "./fs.ts";
import git from "isomorphic-git";

interface Entry {
  oid: string;
  mode: string;
  type: string;
}

interface Node {
  children: Map<string, Node>;
  /** Set when a path ends here and is not resolved yet. */
  path?: string;
  /** Unresolved paths at or below this node. */
  pending: number;
}

const newNode = (): Node => ({ children: new Map(), pending: 0 });
const NONE = new Map<string, Entry>();
const MEMO_MAX = 50_000;

/** Maps every path in `paths` (present at `head`) to the commit sha that last changed it. */
export async function lastChanges(
  gitdir: string,
  head: string,
  paths: Iterable<string>,
  cache: object = {},
): Promise<Map<string, string>> {
  const root = newNode();
  const out = new Map<string, string>();
  for (const path of paths) {
    let n = root;
    const trail = [n];
    for (const seg of path.split("/")) {
      let c = n.children.get(seg);
      if (!c) n.children.set(seg, c = newNode());
      n = c;
      trail.push(n);
    }
    if (n.path !== undefined) continue;
    n.path = path;
    for (const t of trail) t.pending++;
  }
  if (root.pending === 0) return out;

  const memo = new Map<string, Map<string, Entry>>();
  const entries = async (oid: string | null): Promise<Map<string, Entry>> => {
    if (oid === null) return NONE;
    let m = memo.get(oid);
    if (m) return m;
    const { tree } = await git.readTree({ fs, gitdir, oid, cache });
    m = new Map(tree.map((e) => [e.path, { oid: e.oid, mode: e.mode, type: e.type }]));
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(oid, m);
    return m;
  };
  const resolveUnder = (n: Node, commit: string, trail: Node[]) => {
    if (n.path !== undefined) {
      out.set(n.path, commit);
      n.path = undefined;
      for (const t of trail) t.pending--;
      n.pending--;
    }
    for (const c of n.children.values()) if (c.pending > 0) resolveUnder(c, commit, [...trail, n]);
  };
  /** Resolves, as changed by `commit`, the pending paths whose blob differs between the two trees. */
  const diff = async (a: string | null, b: string | null, n: Node, commit: string, trail: Node[]) => {
    if (a === b) return;
    const [ea, eb] = [await entries(a), await entries(b)];
    for (const [name, child] of n.children) {
      if (child.pending === 0) continue;
      const x = ea.get(name);
      const y = eb.get(name);
      const path = [...trail, n, child];
      if (child.path !== undefined) {
        const blobX = x && x.type !== "tree" ? `${x.mode} ${x.oid}` : null;
        const blobY = y && y.type !== "tree" ? `${y.mode} ${y.oid}` : null;
        if (blobX !== blobY) {
          out.set(child.path, commit);
          child.path = undefined;
          for (const t of path) t.pending--;
        }
      }
      if (child.pending > 0 && child.children.size) {
        await diff(
          x?.type === "tree" ? x.oid : null,
          y?.type === "tree" ? y.oid : null,
          child,
          commit,
          [...trail, n],
        );
      }
    }
  };

  let oid = head;
  let { commit } = await git.readCommit({ fs, gitdir, oid, cache });
  while (root.pending > 0) {
    const parent = commit.parent[0];
    let parentCommit: typeof commit | null = null;
    if (parent) {
      try {
        parentCommit = (await git.readCommit({ fs, gitdir, oid: parent, cache })).commit;
      } catch { /* shallow: the parent is not here */ }
    }
    if (!parentCommit) {
      resolveUnder(root, oid, []);
      break;
    }
    await diff(commit.tree, parentCommit.tree, root, oid, []);
    oid = parent;
    commit = parentCommit;
  }
  return out;
}
