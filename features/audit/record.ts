/**
 * Writing audit records (`lz.audit.v1`) from the places that make writes: the Portal repository sink and the
 * fabrics API. A record that cannot be produced is logged as an error (the write itself already happened and
 * is not undone).
 */
import type { Producer } from "../../pipeline/broker/types.ts";
import type { Logger } from "../../pipeline/log.ts";
import { encode } from "../../pipeline/serde.ts";
import { describeError } from "../../pipeline/errors.ts";
import { AUDIT_TOPIC, type AuditRecord } from "../../schemas/audit.ts";

/** Produces `records` keyed by their ids; never throws (a failure is logged). */
export async function produceAudit(
  producer: Producer,
  records: AuditRecord[],
  log: Logger,
): Promise<boolean> {
  try {
    await producer.send(
      AUDIT_TOPIC.name,
      records.map((r) => ({ key: r.id, value: encode(AUDIT_TOPIC.name, r) })),
    );
    return true;
  } catch (err) {
    log.error("cannot write the audit record", { ids: records.map((r) => r.id), error: describeError(err) });
    return false;
  }
}

/** An audit record with every optional field empty; `fields` fills the rest. */
export function auditRecord(
  fields:
    & Pick<AuditRecord, "id" | "kind" | "at" | "trigger" | "subject" | "outcome" | "message">
    & Partial<AuditRecord>,
): AuditRecord {
  return {
    delivery_id: null,
    token_name: null,
    operator: null,
    sync_id: null,
    commit: null,
    error: null,
    changed: 0,
    removed: 0,
    paths: [],
    target: null,
    ...fields,
    message: fields.message.slice(0, 2000),
  };
}
