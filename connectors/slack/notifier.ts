/**
 * An optional Slack-compatible alert notifier: posts `{text}` (what Slack, Mattermost, Rocket.Chat and
 * Google Chat incoming webhooks accept) for every alert opened or resolved on `lz.alerts.v1`. Enabled when
 * `alerts.slack_webhook_env` names an environment variable that holds the webhook URL; the URL is a secret
 * and never logged.
 */
import { Counter } from "prom-client";
import type { Consumer } from "../../pipeline/broker/types.ts";
import type { AppDeps, Service } from "../../pipeline/service.ts";
import { decode } from "../../pipeline/serde.ts";
import { describeError } from "../../pipeline/errors.ts";
import { type Alert, ALERTS_TOPIC } from "../../schemas/alerts.ts";

/** Consumer group (persisted contract). */
export const ALERT_NOTIFIER_GROUP = "lzsync-alert-notifier";

/** The message text of an alert transition. */
export function alertText(a: Alert): string {
  const icon = a.state === "resolved" ? "✅" : a.severity === "critical" ? "🔴" : "🟠";
  const what = a.state === "resolved" ? `resolved: ${a.type} on ${a.layer}` : `${a.type} on ${a.layer}`;
  return `${icon} lzsync ${what} — ${a.message}`;
}

/** The notifier, or null when no webhook URL is configured. */
export function createAlertNotifier(
  deps: AppDeps,
  o: { retries?: number; groupId?: string; onSent?(a: Alert): void } = {},
): Service | null {
  const env = deps.runtime.config.alerts.slack_webhook_env;
  const url = env ? deps.runtime.secret(env) : undefined;
  if (!url) return null;
  const log = deps.log.child("alerts.slack");
  const name = "lzsync_alert_notifications_total";
  const counter = (deps.metrics.getSingleMetric(name) as Counter<"outcome">) ?? new Counter({
    name,
    help: "Alert notifications posted (ok) or given up (failed)",
    labelNames: ["outcome"],
    registers: [deps.metrics],
  });
  let consumer: Consumer | null = null;

  const post = async (a: Alert) => {
    for (let attempt = 0;; attempt++) {
      let status = 0;
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: alertText(a) }),
          signal: AbortSignal.timeout(10_000),
        });
        status = res.status;
        await res.body?.cancel();
        if (res.ok) {
          counter.inc({ outcome: "ok" });
          o.onSent?.(a);
          return;
        }
      } catch { /* network error: retry */ }
      if ((status >= 400 && status < 500 && status !== 429) || attempt >= (o.retries ?? 3)) {
        counter.inc({ outcome: "failed" });
        log.warn("cannot post the alert notification", { alert: a.id, status });
        return;
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  };

  return {
    name: "alert-notifier",
    async start() {
      await deps.broker.admin().createTopics([{ name: ALERTS_TOPIC.name, partitions: 1, compacted: true }]);
      consumer = deps.broker.consumer({
        groupId: o.groupId ?? ALERT_NOTIFIER_GROUP,
        topics: [ALERTS_TOPIC.name],
        fromBeginning: false,
      });
      const c = consumer;
      await c.run({
        eachBatch: async (batch) => {
          for (const r of batch.records) {
            try {
              const a = decode<Alert>(ALERTS_TOPIC.name, r.value);
              if (a) await post(a);
            } catch (err) {
              log.warn("skipping a bad lz.alerts.v1 record", { offset: r.offset, error: describeError(err) });
            }
          }
          const last = batch.records[batch.records.length - 1];
          await c.commit([{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }]);
        },
      });
    },
    async stop() {
      await consumer?.stop();
      consumer = null;
    },
  };
}
