/** The result types of an ingestion plan (`plan.ts`): what to write, what moved where, and why. */
import type { Finding } from "./finding.ts";
import type { KubeObject } from "./object.ts";

/** One object of the desired state (`managed/`) after the plan. */
export interface ManagedEntry {
  /** Identity: `group/Kind/namespace/name`. */
  key: string;
  /** Fabric-relative path, `managed/<plural>/<name>.yaml`. */
  path: string;
  apiVersion: string;
  kind: string;
  plural: string;
  name: string;
  namespace?: string;
  /** The object as written, provenance annotations included. */
  object: KubeObject;
  /** Content hash without provenance (`sha256:…`). */
  hash: string;
  /** Where the object was taken from (fabric-relative) and its document index there. */
  source: string;
  document: number;
  /** Non-blocking findings (warnings), e.g. references to objects outside the directory. */
  warnings: Finding[];
}

/** A file in `unmanaged/` and why it is there (findings as of this plan). */
export interface UnmanagedEntry {
  path: string;
  reasonPath?: string;
  /** The file it was moved from, when this plan moved it. */
  from?: string;
  findings: Finding[];
}

/** A file under `managed/` that does not validate; lzsync leaves it where it is and reports it. */
export interface InvalidManaged {
  path: string;
  findings: Finding[];
}

export type FileOutcome =
  | "ingested"
  | "partially-ingested"
  | "unmanaged"
  | "normalized"
  | "invalid-managed"
  | "ignored";

/** What happened to one input file. */
export interface FileResult {
  path: string;
  outcome: FileOutcome;
  /** Paths the file's content went to. */
  targets: string[];
  findings: Finding[];
}

export type ObjectOutcome = "created" | "updated" | "unchanged" | "rejected";

/** What happened to one document/object. */
export interface ObjectResult {
  /** Identity key when the document had one (structure valid). */
  key?: string;
  kind?: string;
  name?: string;
  source: string;
  document: number;
  outcome: ObjectOutcome;
  path?: string;
  hash?: string;
  findings: Finding[];
}

/** One line of the commit message. */
export interface Move {
  from: string;
  to: string;
  note?: string;
}

/** The complete outcome of planning one ingestion run over a fabric directory snapshot. */
export interface Plan {
  /** Fabric-relative path → new content (only real changes). */
  writes: Map<string, string | Uint8Array>;
  /** Git blob id of each write's content, by path (computed while planning; a commit need not hash again). */
  writeIds: Map<string, string>;
  /** Fabric-relative paths to delete. */
  deletes: Set<string>;
  moves: Move[];
  files: FileResult[];
  objects: ObjectResult[];
  /** Desired state after the plan, by object key. */
  desired: Map<string, ManagedEntry>;
  unmanaged: UnmanagedEntry[];
  invalidManaged: InvalidManaged[];
  /** True when the plan changes the directory (a commit is due). */
  changed: boolean;
}
