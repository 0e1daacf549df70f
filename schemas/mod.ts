/**
 * The registry of every topic lzsync produces or consumes. Add one line per topic declared in this folder.
 * Changelog topics (`<app>-<store>-changelog`) are internal and not listed here.
 */
import type { TopicDef } from "./topic.ts";
import { DLQ_TOPIC } from "./dlq.ts";
import { ALERTS_TOPIC } from "./alerts.ts";
import { AUDIT_TOPIC } from "./audit.ts";
import { GIT_FILES_TOPIC } from "./git_files.ts";
import { GIT_PUSH_TOPIC } from "./git_push.ts";
import { GIT_SYNCED_TOPIC } from "./git_synced.ts";
import { SYNC_EVENTS_TOPIC } from "./sync_events.ts";
import { SYNC_PROGRESS_TOPIC } from "./sync_progress.ts";
import { SYNC_STATUS_TOPIC } from "./sync_status.ts";
import { ASSET_SNAPSHOTS_TOPIC, ASSETS_TOPIC } from "./assets.ts";
import { EVALUATIONS_TOPIC, GOVERNANCE_TOPIC, SCORES_TOPIC } from "./compliance.ts";
import { INFRA_EVENTS_TOPIC } from "./infra_events.ts";
import { VIOLATIONS_TOPIC } from "./violations.ts";
import { TEST_COUNTS_TOPIC, TEST_EVENTS_TOPIC } from "./test_events.ts";
import { FGD_TOPICS } from "./fgd.ts";
import { BILLING_TOPIC } from "./billing.ts";

export type { TopicDef, ValueOf } from "./topic.ts";
export { defineTopic } from "./topic.ts";

/** Every declared topic, by name. */
export const TOPICS: ReadonlyMap<string, TopicDef> = new Map<string, TopicDef>(
  [
    ASSET_SNAPSHOTS_TOPIC,
    ASSETS_TOPIC,
    BILLING_TOPIC,
    EVALUATIONS_TOPIC,
    GOVERNANCE_TOPIC,
    SCORES_TOPIC,
    DLQ_TOPIC,
    INFRA_EVENTS_TOPIC,
    VIOLATIONS_TOPIC,
    TEST_COUNTS_TOPIC,
    TEST_EVENTS_TOPIC,
    ALERTS_TOPIC,
    AUDIT_TOPIC,
    GIT_FILES_TOPIC,
    GIT_PUSH_TOPIC,
    GIT_SYNCED_TOPIC,
    SYNC_EVENTS_TOPIC,
    SYNC_PROGRESS_TOPIC,
    SYNC_STATUS_TOPIC,
    ...FGD_TOPICS,
    // one line per topic; keep sorted by name
  ].map((t) => [t.name, t as TopicDef]),
);

/** The declaration of `name`, or undefined for internal/unknown topics. */
export function topicDef(name: string): TopicDef | undefined {
  return TOPICS.get(name);
}
