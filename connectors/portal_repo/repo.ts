/**
 * The Portal repository handle: a bare clone that lzsync owns under `<data_dir>/portal_repo/`, fetched before
 * every write and pushed with a compare-and-swap on the fetched head (the FGD's isomorphic-git writer; see
 * `connectors/fgd/git_repo.ts`). The clone is a cache: when a write fails for any reason other than a moved
 * branch, the next attempt starts from a fresh clone, so a torn file left by a crash cannot wedge the sink.
 * The Portal repository must be a smart-HTTP URL: lzsync never writes into a user's working copy.
 */
import { join } from "node:path";
import { LzError } from "../../pipeline/errors.ts";
import { redactUrl } from "../git/repo.ts";
import { type FabricRepo, openFabricRepo } from "../fgd/git_repo.ts";

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

/** Opens (and on demand re-creates) the clone of one Portal branch. */
export class PortalClone {
  readonly gitdir: string;
  #repo: FabricRepo | null = null;

  constructor(readonly o: PortalCloneOptions) {
    checkPortalUrl(o.repo);
    this.gitdir = cloneDir(o.dataDir, o.repo);
  }

  /** Secret-free location for logs and the API. */
  get location(): string {
    return redactUrl(this.o.repo);
  }

  /** The handle of the clone (opened once). */
  async open(): Promise<FabricRepo> {
    this.#repo ??= await openFabricRepo({
      repo: this.o.repo,
      branch: this.o.branch,
      gitdir: this.gitdir,
      token: this.o.token,
    });
    return this.#repo;
  }

  /** Drops the clone from disk; the next {@link open} clones again. */
  async discard(): Promise<void> {
    this.#repo?.close();
    this.#repo = null;
    await Deno.remove(this.gitdir, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }

  close(): void {
    this.#repo?.close();
    this.#repo = null;
  }
}
