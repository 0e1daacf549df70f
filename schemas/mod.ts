/**
 * The registry of every topic lzsync produces or consumes: the one list topic creation at start derives
 * from (`pipeline/topics.ts`). Add one line per topic declared in this folder. Changelog topics
 * (`<app>-<store>-changelog`) are internal and not listed here; the test topics (`lz.test.*`,
 * `test_events.ts`) are not either: the test harness registers them ({@link registerTestTopic}), so they
 * are never created on a user's broker.
 */
import type { TopicDef } from "./topic.ts";
import { DLQ_TOPIC } from "./dlq.ts";
import { ALERTS_NOTIFIED_TOPIC, ALERTS_TOPIC } from "./alerts.ts";
import { AUDIT_TOPIC } from "./audit.ts";
import { GIT_FILES_TOPIC } from "./git_files.ts";
import { GIT_PUSH_TOPIC } from "./git_push.ts";
import { GIT_SYNCED_TOPIC } from "./git_synced.ts";
import { SYNC_EVENTS_TOPIC } from "./sync_events.ts";
import { SYNC_PROGRESS_TOPIC } from "./sync_progress.ts";
import { SYNC_STATUS_TOPIC } from "./sync_status.ts";
import { ASSET_PROJECTS_TOPIC, ASSET_SNAPSHOTS_TOPIC, ASSETS_TOPIC } from "./assets.ts";
import { EVALUATIONS_TOPIC, GOVERNANCE_TOPIC, SCORE_PARTS_TOPIC, SCORES_TOPIC } from "./compliance.ts";
import { INFRA_EVENTS_TOPIC } from "./infra_events.ts";
import { VIOLATIONS_TOPIC } from "./violations.ts";
import { FGD_TOPICS } from "./fgd.ts";
import { BILLING_TOPIC } from "./billing.ts";

export type { TopicDef, ValueOf } from "./topic.ts";
export { defineTopic } from "./topic.ts";

/** Every declared topic, by name. */
export const TOPICS: ReadonlyMap<string, TopicDef> = new Map<string, TopicDef>(
  [
    ASSET_PROJECTS_TOPIC,
    ASSET_SNAPSHOTS_TOPIC,
    ASSETS_TOPIC,
    BILLING_TOPIC,
    EVALUATIONS_TOPIC,
    GOVERNANCE_TOPIC,
    SCORE_PARTS_TOPIC,
    SCORES_TOPIC,
    DLQ_TOPIC,
    INFRA_EVENTS_TOPIC,
    VIOLATIONS_TOPIC,
    ALERTS_TOPIC,
    ALERTS_NOTIFIED_TOPIC,
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

const TEST_TOPICS = new Map<string, TopicDef>();

/**
 * Makes a test topic (`lz.test.*`) known to serde, the processor host and the test driver, never to topic
 * creation at start. Called by the test harness only (`pipeline/testing/test_topics.ts`).
 */
export function registerTestTopic(def: TopicDef): void {
  if (!def.name.startsWith("lz.test.")) {
    throw new Error(`only lz.test.* topics are registered by tests; declare ${def.name} in TOPICS`);
  }
  TEST_TOPICS.set(def.name, def);
}

/** The declaration of `name` (a declared or registered test topic), or undefined for internal/unknown topics. */
export function topicDef(name: string): TopicDef | undefined {
  return TOPICS.get(name) ?? TEST_TOPICS.get(name);
}
