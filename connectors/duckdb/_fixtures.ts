/**
 * Records of the analytics tests, valid against their topics' schemas (the host would send anything else to
 * the DLQ): assets, violations, compliance scores, sync events and billing rows.
 */
import type { AnalyticsRecord } from "../../pipeline/analytics/rows.ts";
import { ASSETS_TOPIC } from "../../schemas/assets.ts";
import { VIOLATIONS_TOPIC } from "../../schemas/violations.ts";
import { SYNC_EVENTS_TOPIC } from "../../schemas/sync_events.ts";
import { SCORES_TOPIC } from "../../schemas/compliance.ts";
import { BILLING_TOPIC } from "../../schemas/billing.ts";

export const DAY = 86_400_000;
export const T0 = Date.UTC(2026, 10, 1, 12);

const iso = (ms: number) => new Date(ms).toISOString();

/** An asset record of `lz.assets.v1`. */
export function assetRecord(
  offset: number,
  name: string,
  type: "resource_created" | "resource_updated" | "resource_deleted",
  at: number,
  project = "p1",
): AnalyticsRecord {
  return {
    topic: ASSETS_TOPIC.name,
    partition: 0,
    offset,
    timestamp: at,
    key: name,
    value: {
      type,
      name,
      asset: {
        name,
        asset_type: "compute.googleapis.com/Firewall",
        project,
        project_number: null,
        location: "global",
        update_time: iso(at),
        ancestors: [`projects/${project}`],
        resource_parent: null,
        data: { x: 1 },
      },
      source: "api",
      snapshot_id: null,
      message_id: null,
      changed_at: iso(at),
      observed_at: iso(at),
    },
  };
}

/** A violation record of `lz.violations.v1`. */
export function violationRecord(
  offset: number,
  asset: string,
  state: "open" | "resolved",
  at: number,
): AnalyticsRecord {
  const id = `r1|${asset}`;
  return {
    topic: VIOLATIONS_TOPIC.name,
    partition: 0,
    offset,
    timestamp: at,
    key: id,
    value: {
      type: state === "open" ? "policy_violated" : "policy_resolved",
      id,
      state,
      rule_id: "r1",
      title: "t",
      severity: "high",
      benchmarks: ["CIS 3.6"],
      asset_name: asset,
      asset_type: null,
      project: "p1",
      message: "m",
      source: "policy",
      first_seen: iso(at),
      last_seen: iso(at),
      resolved_at: state === "resolved" ? iso(at) : null,
      resolution: state === "resolved" ? "fixed" : null,
    },
  };
}

/** A score record of `lz.compliance.scores.v1`. */
export function scoreRecord(offset: number, scope: string, score: number, at: number): AnalyticsRecord {
  const [kind, name] = scope === "overall" ? ["overall", "overall"] : scope.split(":");
  return {
    topic: SCORES_TOPIC.name,
    partition: 0,
    offset,
    timestamp: at,
    key: scope,
    value: {
      scope,
      kind,
      name,
      passed: score,
      evaluated: 100,
      score,
      open_violations: 100 - score,
      updated_at: iso(at),
    },
  };
}

/** A sync event of `lz.sync.events.v1` (one attempt), finished `seconds` after `at`. */
export function syncEventRecord(offset: number, id: string, at: number, seconds = 2.5): AnalyticsRecord {
  return {
    topic: SYNC_EVENTS_TOPIC.name,
    partition: 0,
    offset,
    timestamp: at,
    key: "git",
    value: {
      id,
      layer: "git",
      ok: true,
      items: 3,
      started_at: iso(at),
      finished_at: iso(at + seconds * 1000),
      commit_time: iso(at - 500),
      trigger: "webhook",
      triggered_by: "octocat",
    },
  };
}

/** A billing row of `lz.billing.costs.v1`. */
export function billingRecord(
  offset: number,
  key: string,
  at: number,
  cost: number,
  credits = 0,
): AnalyticsRecord {
  return {
    topic: BILLING_TOPIC.name,
    partition: 0,
    offset,
    timestamp: at,
    key,
    value: {
      billing_account_id: "ba",
      service_id: null,
      service_description: "Compute Engine",
      sku_id: null,
      sku_description: null,
      project_id: "p1",
      project_name: null,
      location: null,
      usage_start_time: iso(at),
      usage_end_time: iso(at + 3600_000),
      cost,
      credits,
      currency: "EUR",
      invoice_month: "202611",
      cost_type: "regular",
      export_time: null,
    },
  };
}
