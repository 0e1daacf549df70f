/**
 * Where a fabric's CRD files come from: each `crd_dirs` entry is a directory inside the fabric's repository
 * (relative path, read at the commit being ingested — CRDs versioned with the objects they validate) or an
 * absolute path on the local disk. Every `*.yaml`/`*.yml` file below it is loaded (kubeconform's model).
 * The validator is rebuilt only when the CRD content changes.
 */
import { join } from "node:path";
import { type CrdFile, loadCrds } from "../../processors/fgd/crd.ts";
import { blobId } from "../../processors/fgd/snapshot.ts";
import { Validator } from "../../processors/fgd/validate.ts";
import type { FabricRepo } from "../../connectors/git/git_repo.ts";

const YAML = /\.ya?ml$/i;

async function localFiles(dir: string): Promise<CrdFile[]> {
  const out: CrdFile[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const full = join(d, e.name);
      if (e.isDirectory) await walk(full);
      else if (e.isFile && YAML.test(e.name)) out.push({ path: full, text: await Deno.readTextFile(full) });
    }
  };
  await walk(dir);
  return out;
}

/** Reads the CRD files of `dirs` (repo-relative at `commit`, or absolute local paths). */
export async function readCrdFiles(
  repo: FabricRepo,
  commit: string | null,
  dirs: readonly string[],
): Promise<{ files: CrdFile[]; problems: string[] }> {
  const files: CrdFile[] = [];
  const problems: string[] = [];
  const dec = new TextDecoder();
  for (const dir of dirs) {
    if (dir.startsWith("/")) {
      try {
        files.push(...await localFiles(dir));
      } catch (err) {
        problems.push(`crd_dirs ${dir}: ${(err as Error).message}`);
      }
      continue;
    }
    const clean = dir.replace(/^\.?\/+|\/+$/g, "");
    const tree = commit ? await repo.listTree(commit, clean) : new Map();
    if (tree.size === 0) {
      problems.push(`crd_dirs ${dir}: no such directory in the repository at ${commit ?? "(no commit)"}`);
    }
    for (const [path, f] of tree) {
      if (YAML.test(path)) {
        files.push({ path: `${clean}/${path}`, text: dec.decode(await repo.readBlob(f.oid)) });
      }
    }
  }
  return { files, problems };
}

/** Caches the validator of one fabric, rebuilt when the CRD files or the rule packs change. */
export class ValidatorCache {
  #key = "";
  #validator?: Validator;
  #problems: string[] = [];

  /** The validator for these files; `changed` tells the caller to drop parse caches. */
  get(
    files: CrdFile[],
    packs: readonly string[],
    problems: string[],
  ): { validator: Validator; changed: boolean } {
    const key = blobId(JSON.stringify([packs, files.map((f) => [f.path, blobId(f.text)]).sort()]));
    if (this.#validator && key === this.#key) return { validator: this.#validator, changed: false };
    const index = loadCrds(files);
    this.#validator = new Validator(index, packs);
    this.#problems = [
      ...problems,
      ...index.problems.map((p) => `${p.source}: ${p.message}`),
      ...this.#validator.schema.compileAll(),
    ];
    this.#key = key;
    return { validator: this.#validator, changed: true };
  }

  /** Problems with the CRD files of the current validator. */
  get problems(): string[] {
    return this.#problems;
  }
}
