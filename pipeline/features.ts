/**
 * The features (sync layers) of this build, in start order: one `Feature` value per folder of `features/`
 * (see `pipeline/feature.ts`). Each lists its topologies without deps (for `describe`, `replay` and
 * `digest`), declares the topics it owns (topic creation at start is derived from them, {@link featureTopics})
 * and builds itself from the app's deps (for `start`).
 */
import type { Feature } from "./feature.ts";
import type { TopicDef } from "../schemas/topic.ts";
import { RUNTIME_TOPICS } from "./topics.ts";
import { gitSyncFeature } from "../features/git_sync/mod.ts";
import { infrastructureFeature } from "../features/infrastructure/mod.ts";
import { fabricsFeature } from "../features/fabrics/mod.ts";
import { analyticsFeature } from "../features/analytics/mod.ts";
import { auditFeature } from "../features/audit/mod.ts";
import { portalRepoFeature } from "../features/portal_repo/mod.ts";

export const FEATURES: Feature[] = [
  gitSyncFeature,
  infrastructureFeature,
  fabricsFeature,
  analyticsFeature,
  auditFeature,
  portalRepoFeature,
];

/** Every topic this build creates at start: the runtime's own (the DLQ) and each feature's. */
export function featureTopics(features: readonly Feature[] = FEATURES): TopicDef[] {
  return [...RUNTIME_TOPICS, ...features.flatMap((f) => f.topics)];
}
