/** Reads the lzsync-managed part of a Portal tree (the mapped directories and files, the metadata file). */
import { dirname } from "node:path";
import type { FabricRepo, TreeFile } from "../../connectors/git/git_repo.ts";
import type { PortalMapping } from "./mapping.ts";

/** Managed blobs of `commit` by repo path (empty for a null commit: a branch that does not exist yet). */
export async function managedTree(
  repo: FabricRepo,
  commit: string | null,
  mapping: PortalMapping,
): Promise<Map<string, TreeFile>> {
  const out = new Map<string, TreeFile>();
  if (commit === null) return out;
  for (const dir of mapping.dirs) {
    for (const [rel, f] of await repo.listTree(commit, dir.replace(/\/$/, ""))) out.set(dir + rel, f);
  }
  const byDir = new Map<string, string[]>();
  for (const file of mapping.files) {
    const d = dirname(file) === "." ? "" : dirname(file);
    byDir.set(d, [...(byDir.get(d) ?? []), file]);
  }
  for (const [dir, files] of byDir) {
    const listed = await repo.listTree(commit, dir);
    for (const file of files) {
      const hit = listed.get(dir ? file.slice(dir.length + 1) : file);
      if (hit) out.set(file, hit);
    }
  }
  return out;
}
