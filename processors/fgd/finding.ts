/**
 * Findings: the one shape every FGD check reports in (YAML parsing, structure, CRD schema, rule packs,
 * ingestion). A finding names the rule that failed, the document it is about, the field, and says what would
 * be valid — it is shown to users verbatim (reason files in `unmanaged/`, 422 answers, the status page).
 */

/** Which layer produced a finding. */
export type Layer = "yaml" | "structure" | "schema" | "semantic" | "ingest";

/** `error` keeps a document out of `managed/`; `warning` is reported but does not block. */
export type Severity = "error" | "warning";

/** One problem with one document (or with a whole file when `doc` is -1). */
export interface Finding {
  /** Stable id such as `structure.name` or `hedgehog.vpc.gateway`. */
  rule: string;
  layer: Layer;
  severity: Severity;
  /** 0-based index of the document in its file; -1 for file-level findings. */
  doc: number;
  /** Field path in kubectl style (`spec.subnets.default.gateway`, `spec.permit[0]`); "" for the whole document. */
  path: string;
  /** What is wrong and what would be valid. */
  message: string;
}

/** True when at least one finding blocks the document. */
export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === "error");
}

const SIMPLE_KEY = /^[A-Za-z0-9_-]+$/;

/** Appends a map key to a field path: `a.b`, or `a["x.y"]` for keys that are not simple identifiers. */
export function childPath(parent: string, key: string): string {
  if (SIMPLE_KEY.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Appends an array index to a field path: `a[3]`. */
export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** One line per finding, for reason files and commit messages: `doc 2 spec.vlan: message [rule]`. */
export function formatFinding(f: Finding): string {
  const where = [f.doc >= 0 ? `document ${f.doc}` : "file", f.path].filter(Boolean).join(" ");
  return `${where}: ${f.message} [${f.rule}${f.severity === "warning" ? ", warning" : ""}]`;
}
