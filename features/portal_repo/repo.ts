/**
 * The Portal repository handle: a bare clone that lzsync owns under `<data_dir>/portal_repo/`, fetched before
 * every write and pushed with a compare-and-swap on the fetched head (the FGD's isomorphic-git writer; see
 * `connectors/git/git_repo.ts`). The clone is a cache: when a write fails for any reason other than a moved
 * branch, the next attempt starts from a fresh clone, so a torn file left by a crash cannot wedge the sink.
 * The Portal repository must be a smart-HTTP URL: lzsync never writes into a user's working copy.
 */
import { join } from "node:path";
import { LzError } from "../../pipeline/errors.ts";
import { redactUrl } from "../../connectors/git/repo.ts";
import { type FabricRepo, openFabricRepo } from "../../connectors/git/git_repo.ts";

/** Options of {@link PortalClone}. */
export interface PortalCloneOptions {
  repo: string;
  branch: string;
  dataDir: string;
  token?: string;
}

/** The directory of the clone of `repo` under `dataDir`. */
export function cloneDir(dataDir: string, repo: string): string {
  const safe = redactUrl(repo).replace(/^https?:\/\//i, "").replace(/[^A-Za-z0-9._-]+/g, "_");
  return join(dataDir, "portal_repo", `${safe}.git`);
}

/** Checks `portal_repo.repo`: an http(s) URL. */
export function checkPortalUrl(repo: string): void {
  if (!/^https?:\/\//i.test(repo)) {
    throw new LzError(
      "CONFIG",
      `portal_repo.repo "${repo}" must be an http(s) git URL (e.g. https://github.com/acme/portal.git): ` +
        "lzsync pushes to the Portal's repository from a clone of its own and never writes into a working copy",
    );
  }
}

/** Opens (and on demand re-creates) the clone of the Portal's branches (one handle per branch, one clone). */
export class PortalClone {
  readonly gitdir: string;
  readonly #repos = new Map<string, FabricRepo>();

  constructor(readonly o: PortalCloneOptions) {
    checkPortalUrl(o.repo);
    this.gitdir = cloneDir(o.dataDir, o.repo);
  }

  /** Secret-free location for logs and the API. */
  get location(): string {
    return redactUrl(this.o.repo);
  }

  /** The handle of `branch` (default: the target branch), opened once. */
  async open(branch = this.o.branch): Promise<FabricRepo> {
    let repo = this.#repos.get(branch);
    if (!repo) {
      repo = await openFabricRepo({ repo: this.o.repo, branch, gitdir: this.gitdir, token: this.o.token });
      this.#repos.set(branch, repo);
    }
    return repo;
  }

  /** Drops the clone from disk; the next {@link open} clones again. */
  async discard(): Promise<void> {
    this.close();
    await Deno.remove(this.gitdir, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }

  close(): void {
    for (const r of this.#repos.values()) r.close();
    this.#repos.clear();
  }
}
