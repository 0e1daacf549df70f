/**
 * Keeping `unmanaged/` truthful (issue 11): a reason file always describes the file beside it as it fails
 * now. Orphaned reason files (their file was deleted or moved back to raw/) are removed; a reason file whose
 * file now validates is removed (the file is reported `now_valid`: move it back to raw/); one whose findings
 * changed (a CRD or rule update) is rewritten. A raw file that is ingested in full retires the unmanaged copy
 * an earlier failed drop of the same path left behind; one that fails again replaces that copy instead of
 * adding `name.2.yaml`.
 */
import { type Finding, formatFinding } from "./finding.ts";
import { isYamlPath, REASON_SUFFIX, UNMANAGED, unmanagedPath } from "./layout.ts";
import type { UnmanagedEntry } from "./plan_types.ts";
import type { Snapshot } from "./snapshot.ts";

const HEAD =
  /^# lzsync could not ingest (.+?)( \(this file holds only its rejected documents; document numbers refer to the original\))?\.$/;
const dec = new TextDecoder();

/** The reason file written beside an unmanaged file (its first line is what {@link reasonSource} reads). */
export function reasonText(source: string, findings: readonly Finding[], partial: boolean): string {
  const head = `# lzsync could not ingest ${source}${
    partial ? " (this file holds only its rejected documents; document numbers refer to the original)" : ""
  }.\n# Fix every finding below and move the file back to raw/ to ingest it again.\n`;
  return head + findings.map((f) => `- ${formatFinding(f)}\n`).join("");
}

/** The source a reason file names (and whether its file holds only some documents), if it is lzsync's. */
export function reasonSource(
  snapshot: Snapshot,
  reasonPath: string,
): { source: string; partial: boolean } | undefined {
  const bytes = snapshot.get(reasonPath)?.bytes;
  if (!bytes) return undefined;
  const first = dec.decode(bytes.subarray(0, 600)).split("\n", 1)[0];
  const m = HEAD.exec(first);
  return m ? { source: m[1], partial: m[2] !== undefined } : undefined;
}

/** True when `path` in unmanaged/ is the copy an earlier run made of the raw file `source`. */
export function copyOf(snapshot: Snapshot, path: string, source: string): boolean {
  return snapshot.has(path) && reasonSource(snapshot, path + REASON_SUFFIX)?.source === source;
}

/** A raw file ingested in full: the unmanaged copy of an earlier failed drop of the same path goes. */
export function retire(snapshot: Snapshot, rawPath: string, deletes: Set<string>): void {
  const to = unmanagedPath(rawPath, () => false);
  if (!copyOf(snapshot, to, rawPath)) return;
  deletes.add(to);
  deletes.add(to + REASON_SUFFIX);
}

/**
 * unmanaged/ after the plan: the scanned entries still there plus the files this plan moved in; orphaned and
 * stale reason files are deleted or rewritten (`reasonText` renders one).
 */
export function tidyUnmanaged(
  snapshot: Snapshot,
  paths: readonly string[],
  scanned: UnmanagedEntry[],
  movedOut: UnmanagedEntry[],
  writes: Map<string, string | Uint8Array>,
  deletes: Set<string>,
  reasonText: (source: string, findings: readonly Finding[], partial: boolean) => string,
): UnmanagedEntry[] {
  const moved = new Set(movedOut.map((m) => m.path));
  const kept = scanned.filter((u) => !deletes.has(u.path) && !moved.has(u.path));
  const present = (p: string) => (snapshot.has(p) && !deletes.has(p)) || writes.has(p);
  for (const p of paths) {
    if (!p.startsWith(UNMANAGED) || !p.endsWith(REASON_SUFFIX) || deletes.has(p) || writes.has(p)) continue;
    if (!present(p.slice(0, -REASON_SUFFIX.length))) deletes.add(p); // orphaned
  }
  for (const u of kept) {
    if (!u.reasonPath || deletes.has(u.reasonPath)) continue;
    if (u.findings.length === 0) {
      deletes.add(u.reasonPath); // the file validates now
      u.reasonPath = undefined;
      continue;
    }
    const src = reasonSource(snapshot, u.reasonPath);
    if (!src || src.partial || !isYamlPath(u.path)) continue; // not lzsync's, or numbered by the original
    const old = dec.decode(snapshot.get(u.reasonPath)!.bytes!);
    const listed = old.split("\n").filter((l) => l.startsWith("- ")).map((l) =>
      /\[([^\],]+)/.exec(l)?.[1] ?? ""
    );
    const now = u.findings.map((f) => f.rule);
    if (listed.sort().join("\n") !== [...now].sort().join("\n")) {
      writes.set(u.reasonPath, reasonText(src.source, u.findings, false));
    }
  }
  return [...kept, ...movedOut];
}
