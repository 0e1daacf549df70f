/**
 * Topics of the Fabric GitOps Directory (`features/fabrics/`, `processors/fgd/`).
 *
 * - `lz.fgd.fabrics.v1` (compacted, key fabric id): fabrics registered through the API (config fabrics are
 *   not written here); a tombstone unregisters.
 * - `lz.fgd.status.v1` (compacted, key fabric id): one status per fabric — counts, last commit, last error.
 * - `lz.fgd.objects.v1` (compacted, key `<fabric>/<plural>/<namespace>/<name>`): the three states of each
 *   object — desired (git `managed/`), draft (Portal edit, with a conflict when git changed under it) and
 *   actual (cluster) with drift.
 * - `lz.fgd.unmanaged.v1` (compacted, key `<fabric>:<path>`): every file in `unmanaged/` and its findings.
 * - `lz.fgd.results.v1` (events, key fabric id): per ingestion run, one record per file, per object and one
 *   for the run itself.
 * - `lz.fgd.commands.v1` (events, key fabric id): the input of the `lzsync-fgd` topology — registrations,
 *   unregistrations, manual syncs, Kubernetes polls and Portal edits asked through the API, and the drafts
 *   those edits left (written back by the topology, so a replay rebuilds them without editing git again).
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

const Time = Type.String({ format: "date-time" });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Sha = Type.String({ pattern: "^[0-9a-f]{40}$" });
const AnyObject = Type.Record(Type.String(), Type.Unknown());

/** One validation or ingestion finding (see `processors/fgd/finding.ts`). */
export const FgdFinding = Type.Object({
  rule: Type.String(),
  layer: Type.Union([
    Type.Literal("yaml"),
    Type.Literal("structure"),
    Type.Literal("schema"),
    Type.Literal("semantic"),
    Type.Literal("ingest"),
  ]),
  severity: Type.Union([Type.Literal("error"), Type.Literal("warning")]),
  doc: Type.Integer({ minimum: -1 }),
  path: Type.String(),
  message: Type.String(),
}, { additionalProperties: false });
export type FgdFinding = Static<typeof FgdFinding>;

/** A fabric as registered (config shape plus where it came from). */
export const FabricRegistration = Type.Object({
  id: Type.String({ pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 63 }),
  repo: Type.Optional(Type.String()),
  branch: Type.String(),
  path: Type.String(),
  credential: Type.Optional(Type.String()),
  credential_env: Type.Optional(Type.String()),
  crd_dirs: Type.Array(Type.String()),
  rule_packs: Type.Array(Type.String()),
  kubernetes: Type.Optional(Type.Object({
    api_url: Type.String(),
    credential: Type.Optional(Type.String()),
    token_env: Type.Optional(Type.String()),
  }, { additionalProperties: false })),
  source: Type.Union([Type.Literal("config"), Type.Literal("api"), Type.Literal("sample")]),
  registered_at: Time,
  /**
   * Fields (`repo`, `kubernetes.api_url`) that held credentials inside the URL when an older version stored
   * the registration; lzsync removed them at start and the fabric warns that it needs a credential reference.
   */
  credential_removed: Type.Optional(Type.Array(Type.String())),
}, { additionalProperties: false });
export type FabricRegistration = Static<typeof FabricRegistration>;

export const RunSummary = Type.Object({
  sync_id: Type.String(),
  trigger: Type.String(),
  outcome: Type.Union([Type.Literal("committed"), Type.Literal("unchanged"), Type.Literal("failed")]),
  started_at: Time,
  finished_at: Time,
  duration_ms: Type.Number({ minimum: 0 }),
  attempts: Type.Integer({ minimum: 0 }),
  base: Nullable(Sha),
  commit: Nullable(Sha),
  files: Type.Integer({ minimum: 0 }),
  created: Type.Integer({ minimum: 0 }),
  updated: Type.Integer({ minimum: 0 }),
  rejected: Type.Integer({ minimum: 0 }),
  error: Nullable(Type.String()),
}, { additionalProperties: false });
export type RunSummary = Static<typeof RunSummary>;

export const FabricStatus = Type.Object({
  id: Type.String(),
  repo: Type.String({ description: "secret-free location" }),
  branch: Type.String(),
  path: Type.String(),
  source: Type.String(),
  state: Type.Union([Type.Literal("idle"), Type.Literal("running"), Type.Literal("error")]),
  counts: Type.Object({
    managed: Type.Integer({ minimum: 0 }),
    unmanaged: Type.Integer({ minimum: 0 }),
    invalid_managed: Type.Integer({ minimum: 0 }),
    drafts: Type.Integer({ minimum: 0 }),
    conflicts: Type.Integer({ minimum: 0 }),
    drift: Type.Integer({ minimum: 0 }),
  }, { additionalProperties: false }),
  /** Head of the branch as last seen, and the last commit lzsync made. */
  head: Nullable(Sha),
  last_commit: Nullable(Sha),
  last_run: Type.Union([RunSummary, Type.Null()]),
  last_error: Nullable(Type.String()),
  /** Standing problems of the registration itself (e.g. credentials that were removed from its URLs). */
  warnings: Type.Optional(Type.Array(Type.String())),
  invalid_managed: Type.Array(Type.Object({ path: Type.String(), findings: Type.Array(FgdFinding) })),
  crd_problems: Type.Array(Type.String()),
  kubernetes: Type.Union([
    Type.Object({
      api_url: Type.String(),
      last_poll: Nullable(Time),
      error: Nullable(Type.String()),
    }, { additionalProperties: false }),
    Type.Null(),
  ]),
  updated_at: Time,
}, { additionalProperties: false });
export type FabricStatus = Static<typeof FabricStatus>;

export const DraftState = Type.Union([
  Type.Literal("open"),
  Type.Literal("conflicted"),
  Type.Literal("failed"),
]);

/** A Portal draft of a fabric object: the edit's object and where it stands. */
const draftFields = {
  op: Type.Union([Type.Literal("put"), Type.Literal("delete")]),
  object: Type.Union([AnyObject, Type.Null()]),
  hash: Nullable(Type.String()),
  /** Hash of the desired version the edit started from (null: the object did not exist). */
  base_hash: Nullable(Type.String()),
  state: DraftState,
  author: Type.String(),
  created_at: Time,
  updated_at: Time,
  error: Nullable(Type.String()),
};

/** Git changed the object under an open draft: their version, kept until the draft is resolved. */
const DraftConflict = Type.Object({
  theirs: Type.Union([AnyObject, Type.Null()]),
  theirs_hash: Nullable(Type.String()),
  commit: Nullable(Sha),
  detected_at: Time,
}, { additionalProperties: false });

export const FabricObject = Type.Object({
  fabric: Type.String(),
  apiVersion: Type.String(),
  kind: Type.String(),
  plural: Type.String(),
  name: Type.String(),
  namespace: Nullable(Type.String()),
  path: Type.String({ description: "fabric-relative managed path" }),
  desired: Type.Union([
    Type.Object({
      object: AnyObject,
      hash: Type.String(),
      source: Type.String(),
      document: Type.Integer(),
      commit: Nullable(Sha),
      warnings: Type.Array(FgdFinding),
    }, { additionalProperties: false }),
    Type.Null(),
  ]),
  draft: Type.Union([Type.Object(draftFields, { additionalProperties: false }), Type.Null()]),
  /** Set when git changed the object under an open draft: both versions are kept until resolved. */
  conflict: Type.Union([DraftConflict, Type.Null()]),
  actual: Type.Union([
    Type.Object({ object: AnyObject, hash: Type.String(), observed_at: Time }, {
      additionalProperties: false,
    }),
    Type.Null(),
  ]),
  drift: Type.Union([
    Type.Literal("in-sync"),
    Type.Literal("differs"),
    Type.Literal("missing"),
    Type.Literal("extra"),
    Type.Literal("unknown"),
  ]),
  drift_fields: Type.Array(Type.String()),
  updated_at: Time,
}, { additionalProperties: false });
export type FabricObject = Static<typeof FabricObject>;

export const UnmanagedFile = Type.Object({
  fabric: Type.String(),
  path: Type.String({ description: "fabric-relative, under unmanaged/" }),
  reason_path: Nullable(Type.String()),
  from: Nullable(Type.String()),
  findings: Type.Array(FgdFinding),
  /** True when the file would be accepted now (e.g. after a CRD update): move it back to raw/. */
  now_valid: Type.Boolean(),
  updated_at: Time,
}, { additionalProperties: false });
export type UnmanagedFile = Static<typeof UnmanagedFile>;

export const FgdResult = Type.Object({
  type: Type.Union([Type.Literal("run"), Type.Literal("file"), Type.Literal("object")]),
  fabric: Type.String(),
  sync_id: Type.String(),
  /** file: the input path; object: the source path; run: the fabric directory. */
  path: Type.String(),
  document: Nullable(Type.Integer()),
  outcome: Type.String(),
  targets: Type.Array(Type.String()),
  kind: Nullable(Type.String()),
  name: Nullable(Type.String()),
  commit: Nullable(Sha),
  findings: Type.Array(FgdFinding),
  run: Type.Union([RunSummary, Type.Null()]),
  at: Time,
}, { additionalProperties: false });
export type FgdResult = Static<typeof FgdResult>;

export const FGD_FABRICS_TOPIC = defineTopic({
  name: "lz.fgd.fabrics.v1",
  schema: FabricRegistration,
  compacted: true,
  partitions: 1,
  key: "fabric id",
  description: "Fabrics registered through POST /api/v1/fabrics (tombstone: unregistered).",
});

export const FGD_STATUS_TOPIC = defineTopic({
  name: "lz.fgd.status.v1",
  schema: FabricStatus,
  compacted: true,
  partitions: 1,
  key: "fabric id",
  description:
    "Per fabric: counts of managed/unmanaged/drafts/conflicts/drift, last commit, last run, last error.",
});

export const FGD_OBJECTS_TOPIC = defineTopic({
  name: "lz.fgd.objects.v1",
  schema: FabricObject,
  compacted: true,
  partitions: 1,
  key: "<fabric>/<plural>/<namespace>/<name>",
  description: "Desired, draft and actual state of each fabric object, with conflicts and drift.",
});

export const FGD_UNMANAGED_TOPIC = defineTopic({
  name: "lz.fgd.unmanaged.v1",
  schema: UnmanagedFile,
  compacted: true,
  partitions: 1,
  key: "<fabric>:<path>",
  description: "Files in each fabric's unmanaged/ directory with the findings that keep them out.",
});

export const FGD_RESULTS_TOPIC = defineTopic({
  name: "lz.fgd.results.v1",
  schema: FgdResult,
  compacted: false,
  partitions: 1,
  key: "fabric id",
  description: "Ingestion results: one record per file, per object and per run.",
});

const Draft = Type.Object({
  ...draftFields,
  conflict: Type.Union([DraftConflict, Type.Null()]),
  meta: Type.Object({
    apiVersion: Type.String(),
    kind: Type.String(),
    plural: Type.String(),
    name: Type.String(),
    namespace: Nullable(Type.String()),
    path: Type.String(),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

/** A request id: the API call waiting for the command's answer (in the process that produced it). */
const RequestId = Type.String({ minLength: 1, maxLength: 100 });

/**
 * One command of `lz.fgd.commands.v1` (see `features/fabrics/topology.ts`). `at` is when it was asked.
 * - `register` / `unregister`: an API registration (validated before it is produced) and its removal;
 * - `sync`: ingest now (`POST /api/v1/fabrics/:id/sync`), with the sync id the caller was given;
 * - `poll`: read the fabric's Kubernetes objects now;
 * - `edit`: a Portal edit (PUT/DELETE of an object, draft discard), performed only while its caller waits;
 * - `draft`: the draft of one object slot after an edit (null: none), written by the topology itself.
 */
export const FgdCommand = Type.Union([
  Type.Object({
    type: Type.Literal("register"),
    request_id: RequestId,
    at: Time,
    sync_id: Type.String(),
    registration: FabricRegistration,
  }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal("unregister"),
    request_id: RequestId,
    at: Time,
    fabric: Type.String(),
  }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal("sync"),
    request_id: RequestId,
    at: Time,
    fabric: Type.String(),
    sync_id: Type.String(),
    reason: Type.String(),
  }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal("poll"),
    request_id: RequestId,
    at: Time,
    fabric: Type.String(),
  }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal("edit"),
    request_id: RequestId,
    at: Time,
    fabric: Type.String(),
    edit: Type.Object({
      op: Type.Union([Type.Literal("put"), Type.Literal("delete"), Type.Literal("discard")]),
      kind: Type.String(),
      name: Type.String(),
      namespace: Type.Optional(Type.String()),
      body: Type.Optional(Type.Unknown()),
      ifMatch: Type.Optional(Type.String()),
      draftOnly: Type.Optional(Type.Boolean()),
      author: Type.String(),
    }, { additionalProperties: false }),
  }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal("draft"),
    at: Time,
    fabric: Type.String(),
    slot: Type.String(),
    draft: Type.Union([Draft, Type.Null()]),
  }, { additionalProperties: false }),
]);
export type FgdCommand = Static<typeof FgdCommand>;

export const FGD_COMMANDS_TOPIC = defineTopic({
  name: "lz.fgd.commands.v1",
  schema: FgdCommand,
  compacted: false,
  partitions: 1,
  key: "fabric id",
  description:
    "Fabric registrations, syncs, polls and Portal edits asked through the API, and the drafts the edits left.",
});

/** Every FGD topic. */
export const FGD_TOPICS = [
  FGD_FABRICS_TOPIC,
  FGD_STATUS_TOPIC,
  FGD_OBJECTS_TOPIC,
  FGD_UNMANAGED_TOPIC,
  FGD_RESULTS_TOPIC,
  FGD_COMMANDS_TOPIC,
];
