/**
 * Committing one Portal edit (a draft) to `managed/`: fetch the head, read git's version of the object,
 * and commit only if it is still the version the draft was based on — otherwise it is a conflict, reported
 * with both versions and never overwritten. Push races are retried (bounded) with the same check.
 */
import { describeError } from "../../pipeline/errors.ts";
import type { CrdKind } from "../../processors/fgd/crd.ts";
import { hasErrors } from "../../processors/fgd/finding.ts";
import type { KubeObject } from "../../processors/fgd/object.ts";
import {
  contentHash,
  normalizeObject,
  renderManaged,
  stripProvenance,
} from "../../processors/fgd/normalize.ts";
import { parseYamlFile } from "../../processors/fgd/parse_file.ts";
import { type Comments, extractComments } from "../../processors/fgd/comments.ts";
import type { FabricGit } from "./ingest.ts";

/** One object edit. `object` is the normalized new version (null for a deletion). */
export interface Edit {
  op: "put" | "delete";
  crd: CrdKind;
  name: string;
  /** Fabric-relative canonical path, `managed/<plural>/<name>.yaml`. */
  path: string;
  object: KubeObject | null;
  hash: string | null;
  base_hash: string | null;
  author: string;
}

/** Git's version of an object at a commit. */
export interface GitVersion {
  object: KubeObject | null;
  /** Content hash; `invalid:<blob>` when the file does not validate; null when absent. */
  hash: string | null;
}

/** What happened to an edit. */
export type EditOutcome =
  | { kind: "committed"; commit: string; attempts: number }
  | { kind: "applied"; head: string | null }
  | { kind: "conflict"; theirs: GitVersion; head: string | null }
  | { kind: "failed"; error: string };

/** Reads and hashes the object at its canonical path at `commit`. */
export async function readVersion(
  fg: FabricGit,
  commit: string | null,
  path: string,
  crd: CrdKind,
): Promise<GitVersion> {
  return (await readFile(fg, commit, path, crd)).version;
}

/** {@link readVersion}, plus the user comments of the file (kept when the Portal rewrites it). */
async function readFile(
  fg: FabricGit,
  commit: string | null,
  path: string,
  crd: CrdKind,
): Promise<{ version: GitVersion; comments?: Comments }> {
  if (!commit) return { version: { object: null, hash: null } };
  const full = fg.repoPath(path);
  const dir = full.slice(0, full.lastIndexOf("/"));
  const file = (await fg.repo.listTree(commit, dir)).get(full.slice(dir.length + 1));
  if (!file) return { version: { object: null, hash: null } };
  const parsed = parseYamlFile(await fg.repo.readBlob(file.oid));
  const one = parsed.docs.length === 1 && !parsed.docs[0].findings.length ? parsed.docs[0] : undefined;
  const doc = one?.value;
  const comments = one ? extractComments(one.text, parsed.plain) : undefined;
  const validator = await fg.validatorAt(commit);
  const r = doc === undefined ? undefined : validator.validate(doc, 0);
  if (!r?.object || hasErrors(r.findings)) {
    return { version: { object: (doc as KubeObject) ?? null, hash: `invalid:${file.oid}` }, comments };
  }
  const normalized = normalizeObject(stripProvenance(r.object), crd);
  return { version: { object: normalized, hash: contentHash(normalized) }, comments };
}

/** Commits `edit` if git still holds its base version (see the module doc). Never throws. */
export async function commitEdit(fg: FabricGit, edit: Edit, maxAttempts = 5): Promise<EditOutcome> {
  try {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const head = await fg.repo.fetch();
      const { version: theirs, comments } = await readFile(fg, head, edit.path, edit.crd);
      if (edit.op === "put" ? theirs.hash === edit.hash : theirs.hash === null) {
        return { kind: "applied", head };
      }
      if (theirs.hash !== edit.base_hash) return { kind: "conflict", theirs, head };
      const writes = new Map<string, string>();
      const deletes = new Set<string>();
      if (edit.op === "put") {
        // The file's comments (an HNP header, notes on fields) stay: an edit changes the object, not them.
        const r = renderManaged(edit.object!, edit.crd, { source: "portal", document: 0 }, comments);
        writes.set(fg.repoPath(edit.path), r.text);
      } else deletes.add(fg.repoPath(edit.path));
      const verb = edit.op === "delete" ? "delete" : theirs.hash === null ? "create" : "update";
      const message =
        `fgd(${fg.spec.id}): portal ${verb} ${edit.crd.kind}/${edit.name} by ${edit.author}\n\n` +
        `${fg.repoPath(edit.path)} (${verb}d from the Portal)\n`;
      const commit = await fg.repo.writeCommit(head, { writes, deletes }, message, fg.author);
      const pushed = await fg.repo.push(commit, head);
      if (pushed.ok) return { kind: "committed", commit, attempts: attempt };
    }
    return {
      kind: "failed",
      error: `the branch kept moving: ${maxAttempts} pushes were rejected; the draft is kept`,
    };
  } catch (err) {
    return { kind: "failed", error: `${describeError(err)}; the draft is kept` };
  }
}
