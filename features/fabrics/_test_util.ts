/** Helpers for the FGD connector tests: sample fabric files and reading a bare repo with the git CLI. */
import { join } from "node:path";
import { FABRIC_YAML, hedgehogCrdFiles } from "../../processors/fgd/testdata/mod.ts";

export { FABRIC_YAML };

/** The Hedgehog CRD files placed at `fabrics/crds/hedgehog/` of a test repo. */
export function crdRepoFiles(prefix = "fabrics/crds/hedgehog"): Record<string, string> {
  return Object.fromEntries(hedgehogCrdFiles().map((f) => [`${prefix}/${f.path}`, f.text]));
}

async function git(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** Paths of the tree at `ref` of a bare repo under the test server root (optionally under a prefix). */
export async function remoteTree(root: string, name: string, ref = "main", prefix = ""): Promise<string[]> {
  const out = await git(
    ["ls-tree", "-r", "--name-only", ref, ...(prefix ? ["--", prefix] : [])],
    join(root, `${name}.git`),
  );
  return out.split("\n").filter(Boolean).sort();
}

/** A file's content at `ref` of a bare test repo. */
export async function remoteFile(root: string, name: string, path: string, ref = "main"): Promise<string> {
  return await git(["show", `${ref}:${path}`], join(root, `${name}.git`));
}

/** Commit subject/body and parents of `ref`. */
export async function remoteCommit(
  root: string,
  name: string,
  ref = "main",
): Promise<{ message: string; parents: string[] }> {
  const out = await git(["log", "-1", "--format=%P%n%B", ref], join(root, `${name}.git`));
  const [parents, ...body] = out.split("\n");
  return { parents: parents.split(" ").filter(Boolean), message: body.join("\n").trim() };
}
