/**
 * One list of everything that keeps a fabric's files out of its desired state, or warns about them: files
 * under `managed/` that do not validate (left in place, not in the desired state), files in `unmanaged/`,
 * and warnings on managed objects. Served by `GET /api/v1/fabrics/:id/findings`, and across fabrics by
 * `GET /api/v1/fabric-findings` (the status page's "Fabric findings" section).
 */
import type { FabricObject, FabricStatus, UnmanagedFile } from "../../schemas/fgd.ts";
import { managedPath } from "../../processors/fgd/layout.ts";

/** Where a finding's file is, and what that means for the desired state. */
export type FindingPlace = "managed-invalid" | "unmanaged" | "managed-warning";

/** One row of the findings list. */
export interface FindingRow {
  fabric: string;
  /** Fabric-relative file path. */
  file: string;
  place: FindingPlace;
  /** What happens to the file, in words (shown on the status page). */
  state: string;
  rule: string;
  severity: "error" | "warning";
  layer: string;
  /** Document index in the file (-1: the whole file). */
  document: number;
  /** Field path inside the document ("" for the document or file). */
  field: string;
  message: string;
}

const STATE: Record<FindingPlace, string> = {
  "managed-invalid": "in managed/, invalid: kept in place, left out of the desired state",
  "unmanaged": "in unmanaged/: not ingested",
  "managed-warning": "in managed/: accepted, with a warning",
};

/** Rows of one fabric, invalid managed files first, then unmanaged files, then object warnings. */
export function fabricFindings(
  fabric: string,
  status: FabricStatus | undefined,
  unmanaged: Iterable<UnmanagedFile>,
  objects: Iterable<FabricObject>,
): FindingRow[] {
  const rows: FindingRow[] = [];
  const push = (
    file: string,
    place: FindingPlace,
    f: FabricStatus["invalid_managed"][number]["findings"][number],
  ) =>
    rows.push({
      fabric,
      file,
      place,
      state: STATE[place],
      rule: f.rule,
      severity: f.severity,
      layer: f.layer,
      document: f.doc,
      field: f.path,
      message: f.message,
    });
  for (const i of [...status?.invalid_managed ?? []].sort((a, b) => a.path.localeCompare(b.path))) {
    for (const f of i.findings) push(i.path, "managed-invalid", f);
  }
  for (
    const u of [...unmanaged].filter((u) => u.fabric === fabric).sort((a, b) => a.path.localeCompare(b.path))
  ) {
    for (const f of u.findings) push(u.path, "unmanaged", f);
  }
  const warned = [...objects].filter((o) => o.fabric === fabric && o.desired?.warnings.length)
    .map((o) => ({ path: pathOf(o), warnings: o.desired!.warnings }))
    .sort((a, b) => a.path.localeCompare(b.path));
  for (const o of warned) for (const f of o.warnings) push(o.path, "managed-warning", f);
  return rows;
}

/** The standing warning of a fabric with invalid files under managed/ (status `warnings`, `last_error`). */
export function invalidManagedWarning(
  fabric: string,
  invalid: FabricStatus["invalid_managed"],
): string | null {
  if (!invalid.length) return null;
  const shown = invalid.slice(0, 3).map((i) => {
    const f = i.findings.find((x) => x.severity === "error") ?? i.findings[0];
    return f ? `${i.path} (${f.rule}: ${f.message})` : i.path;
  });
  const more = invalid.length > shown.length ? ` and ${invalid.length - shown.length} more` : "";
  return `${invalid.length} file(s) under managed/ do not validate and are left out of the desired state ` +
    `(lzsync keeps them in place and does not rewrite them): ${shown.join("; ")}${more}. Fix each file in ` +
    `place, or move it to raw/ to have it re-ingested (invalid documents then go to unmanaged/ with a reason ` +
    `file); every finding: GET /api/v1/fabrics/${fabric}/findings`;
}

function pathOf(o: FabricObject): string {
  try {
    return managedPath(o.plural, o.name, o.namespace ?? undefined);
  } catch {
    return `managed/${o.plural}/${o.name}.yaml`;
  }
}
