/**
 * GitHub connector: the signed push webhook (a gateway plugin), the `lzsync/portal` commit-status notifier
 * and Compare API client (`@octokit/rest`) and webhook delivery helpers (`pipeline/demo.ts`'s `demo-push` uses them).
 *
 * ```ts
 * const gateway = createGateway(deps, [githubWebhookPlugin(), gitSyncPlugin()]);
 * ```
 */
export { DELIVERY_HEADER, type GitHubWebhookOptions, githubWebhookPlugin, WEBHOOK_PATH } from "./webhook.ts";
export { signPayload, verifySignature } from "./signature.ts";
export { createGitHubClient, type GitHubClient, STATUS_CONTEXT } from "./client.ts";
export { createCommitStatusNotifier, STATUS_NOTIFIER_GROUP } from "./status_notifier.ts";
export { deliverWebhook, type PayloadCommit, pushPayload } from "./deliver.ts";
export { generatedSecretPath, webhookSecrets } from "./secrets.ts";
