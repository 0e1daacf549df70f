/**
 * `lz.audit.v1`: the audit trail — one record per sync run and per write lzsync makes, with who or what asked
 * for it, what changed and the outcome. Compacted and keyed by the record's `id`, which is unique per event
 * and deterministic (a producer that repeats an event after a crash rewrites the same key, so a retry is
 * not counted twice and nothing is ever compacted away). Flat fields, so the analytics tables get one column
 * per field.
 *
 * | kind | written by | trigger |
 * |---|---|---|
 * | `sync` | the `audit` processor, when a Landing Zone sync ends (`lz.sync.progress.v1`), joined with the push that asked (`lz.git.push.v1`) | `webhook` + `delivery_id`, `trigger` + `token_name`, `schedule`, `start` |
 * | `portal_write` | the Portal repository sink, per write | `sync` (the Landing Zone sync it mirrors) |
 * | `fabric_write` | the fabrics API, per accepted write | `api` + `token_name` |
 * | `fabric_sync` | the `audit` processor, per fabric ingestion run that committed, failed or was asked for (`lz.fgd.results.v1`) | `start`, `schedule`, `webhook`, `sync`, `trigger` (the API; its `fabric_write` record names the token), `api` (a registration) |
 * | `replay` | `lzsync replay` | `operator` + `operator` name |
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

const Time = Type.String({ format: "date-time" });
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const AuditKind = Type.Union([
  Type.Literal("sync"),
  Type.Literal("portal_write"),
  Type.Literal("fabric_write"),
  Type.Literal("fabric_sync"),
  Type.Literal("replay"),
]);
export type AuditKind = Static<typeof AuditKind>;

export const AuditTrigger = Type.Union([
  Type.Literal("webhook"),
  Type.Literal("trigger"),
  Type.Literal("schedule"),
  Type.Literal("start"),
  Type.Literal("sync"),
  Type.Literal("api"),
  Type.Literal("operator"),
  Type.Literal("unknown"),
]);
export type AuditTrigger = Static<typeof AuditTrigger>;

/** Paths listed per record at most; `changed`/`removed` always hold the full counts. */
export const AUDIT_MAX_PATHS = 200;

export const AuditRecord = Type.Object({
  id: Type.String({ minLength: 1, description: "unique per event, e.g. sync:<sync_id>" }),
  kind: AuditKind,
  /** When the event finished (from the source record, never the auditor's clock). */
  at: Time,
  trigger: AuditTrigger,
  /** `X-GitHub-Delivery` of the webhook that asked. */
  delivery_id: NullableString,
  /** Config name of the gateway token that asked (manual trigger, fabric write) — never the token. */
  token_name: NullableString,
  /** Who ran an operator command (OS user). */
  operator: NullableString,
  /** What the event is about: Landing Zone repo id, Portal repository, fabric id, consumer group. */
  subject: Type.String(),
  sync_id: NullableString,
  /** The Landing Zone commit synced or mirrored. */
  commit: NullableString,
  outcome: Type.Union([
    Type.Literal("ok"),
    Type.Literal("unchanged"),
    Type.Literal("skipped"),
    Type.Literal("failed"),
  ]),
  error: NullableString,
  changed: Type.Integer({ minimum: 0 }),
  removed: Type.Integer({ minimum: 0 }),
  /** Changed then removed paths, at most {@link AUDIT_MAX_PATHS}. */
  paths: Type.Array(Type.String()),
  /** What was written: a Portal commit, a pull request URL, a fabric object, offsets reset to. */
  target: NullableString,
  message: Type.String({ maxLength: 2000 }),
}, { additionalProperties: false });
export type AuditRecord = Static<typeof AuditRecord>;

/** `changed`, `removed` and the capped `paths` of an event. */
export function auditPaths(changed: readonly string[], removed: readonly string[]) {
  return {
    changed: changed.length,
    removed: removed.length,
    paths: [...changed, ...removed].slice(0, AUDIT_MAX_PATHS),
  };
}

export const AUDIT_TOPIC = defineTopic({
  name: "lz.audit.v1",
  schema: AuditRecord,
  compacted: true,
  partitions: 1,
  key: "id (unique per event)",
  description: "Audit trail: every sync run and write, who or what triggered it, what changed, the outcome.",
});
