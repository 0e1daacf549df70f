/**
 * The operator side of the audit trail: `lzsync replay` records itself on `lz.audit.v1` (who ran it, the
 * group, where its offsets went), and `lzsync audit --month YYYY-MM` reads the trail back into a monthly
 * report (counts per kind, trigger and outcome; Portal commits; failures).
 */
import { userInfo } from "node:os";
import type { Broker } from "./broker/types.ts";
import { readTopicToEnd } from "./broker/read_topic.ts";
import { decode, encode } from "./serde.ts";
import { LzError } from "./errors.ts";
import type { ReplayResult } from "./replay.ts";
import { AUDIT_TOPIC, type AuditRecord } from "../schemas/audit.ts";

/** The OS user running this command (the operator), or `unknown`. */
export function operatorName(): string {
  try {
    return userInfo().username || "unknown";
  } catch {
    return "unknown";
  }
}

/** Records a finished replay by `operator` on `lz.audit.v1`; returns the record. */
export async function auditReplay(
  broker: Broker,
  r: ReplayResult,
  operator: string,
  now = Date.now(),
): Promise<AuditRecord> {
  const at = new Date(now).toISOString();
  const rec: AuditRecord = {
    id: `replay:${r.group}:${at}`,
    kind: "replay",
    at,
    trigger: "operator",
    delivery_id: null,
    token_name: null,
    operator,
    subject: r.group,
    sync_id: null,
    commit: null,
    outcome: "ok",
    error: null,
    changed: r.offsets.length,
    removed: r.droppedTopics.length,
    paths: r.droppedTopics,
    target: r.offsets.map((o) => `${o.topic}[${o.partition}]@${o.offset}`).join(", ") || null,
    message:
      `replay of ${r.group} to ${r.to}: ${r.offsets.length} offset(s) reset, ${r.droppedTopics.length} ` +
      "changelog(s) dropped",
  };
  await broker.admin().createTopics([{ name: AUDIT_TOPIC.name, partitions: 1, compacted: true }]);
  const p = await broker.producer();
  try {
    await p.send(AUDIT_TOPIC.name, [{ key: rec.id, value: encode(AUDIT_TOPIC.name, rec) }]);
  } finally {
    await p.close();
  }
  return rec;
}

/** A month's audit report. */
export interface AuditReport {
  month: string;
  total: number;
  /** `kind → trigger → outcome → count`. */
  counts: Record<string, Record<string, Record<string, number>>>;
  /** Token names and how many records each asked for. */
  tokens: Record<string, number>;
  portal_commits: { at: string; commit: string | null; target: string | null }[];
  failures: { at: string; kind: string; subject: string; error: string | null }[];
}

/** Reads the trail and builds the report of `month` (`YYYY-MM`, UTC). */
export async function auditReport(broker: Broker, month: string): Promise<AuditReport> {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) {
    throw new LzError("USAGE", `--month ${JSON.stringify(month)} is not a month; use YYYY-MM, e.g. 2026-11`);
  }
  const from = Date.UTC(Number(m[1]), Number(m[2]) - 1, 1);
  const to = Date.UTC(Number(m[1]), Number(m[2]), 1);
  const recs: AuditRecord[] = [];
  const topics = await broker.admin().listTopics();
  if (topics.includes(AUDIT_TOPIC.name)) {
    await readTopicToEnd(broker, AUDIT_TOPIC.name, (r) => {
      const v = decode<AuditRecord>(AUDIT_TOPIC.name, r.value);
      if (v && Date.parse(v.at) >= from && Date.parse(v.at) < to) recs.push(v);
    });
  }
  recs.sort((a, b) => a.at.localeCompare(b.at));
  const report: AuditReport = {
    month,
    total: recs.length,
    counts: {},
    tokens: {},
    portal_commits: [],
    failures: [],
  };
  for (const r of recs) {
    const byTrigger = report.counts[r.kind] ??= {};
    const byOutcome = byTrigger[r.trigger] ??= {};
    byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
    if (r.token_name) report.tokens[r.token_name] = (report.tokens[r.token_name] ?? 0) + 1;
    if (r.kind === "portal_write" && r.outcome === "ok") {
      report.portal_commits.push({ at: r.at, commit: r.commit, target: r.target });
    }
    if (r.outcome === "failed") {
      report.failures.push({ at: r.at, kind: r.kind, subject: r.subject, error: r.error });
    }
  }
  return report;
}
