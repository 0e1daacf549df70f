/**
 * An optional Slack-compatible alert notifier: posts `{text}` (what Slack, Mattermost, Rocket.Chat and
 * Google Chat incoming webhooks accept) for every alert opened or resolved on `lz.alerts.v1`. Enabled when
 * `alerts.slack_webhook_env` names an environment variable that holds the webhook URL; the URL is a secret
 * and never logged.
 *
 * It is a topology like every other consumer of lzsync (app `lzsync-alert-notifier`, no stores): the
 * processor host decodes and validates each record (a bad one goes to `lz.dlq.v1`), `process` posts it with
 * bounded retries, and a post that still fails goes to the DLQ with the reason — nothing is skipped silently,
 * and `replay`/`lag` cover the group. Delivery is at least once: a post made before a crash, ahead of the
 * next checkpoint, is made again. A transition older than `alerts.notify_max_age` when the notifier first
 * reads it (a first start over a long-compacted alerts topic, a replay) is counted as `stale`, not posted.
 */
import { Counter, type Registry } from "prom-client";
import type { AppDeps } from "../../pipeline/service.ts";
import type { Processor, Topology } from "../../pipeline/processor/types.ts";
import { parseDuration } from "../../pipeline/config.ts";
import { LzError } from "../../pipeline/errors.ts";
import { retry } from "../../pipeline/retry.ts";
import { type Alert, ALERTS_TOPIC } from "../../schemas/alerts.ts";

/** Consumer group / application id (persisted contract). */
export const ALERT_NOTIFIER_GROUP = "lzsync-alert-notifier";

/** The message text of an alert transition. */
export function alertText(a: Alert): string {
  const icon = a.state === "resolved" ? "✅" : a.severity === "critical" ? "🔴" : "🟠";
  const what = a.state === "resolved" ? `resolved: ${a.type} on ${a.layer}` : `${a.type} on ${a.layer}`;
  return `${icon} lzsync ${what} — ${a.message}`;
}

/** How the notifier reaches the outside world. */
export interface AlertPoster {
  /** Posts one transition; throws when it could not (retriable or not, as `isRetriable` reads it). */
  post(a: Alert): Promise<void>;
  /** Transitions older than this (record time vs the processor's clock) are counted stale, not posted. */
  maxAgeMs: number;
  /** Retries of a retriable failure before the record goes to the DLQ (default 3). */
  retries?: number;
  /** First backoff in ms, doubling (default 200). */
  backoffMs?: number;
  counter?: Counter<"outcome">;
  onSent?(a: Alert): void;
}

/**
 * The notifier topology. Without a poster it only declares the app (for `describe`, `replay`, `digest`);
 * a host must never run it that way.
 */
export function alertNotifierTopology(poster?: AlertPoster): Topology<Alert> {
  return {
    app: ALERT_NOTIFIER_GROUP,
    description: "posts each alert transition to a Slack-compatible webhook (DLQ when it cannot)",
    inputs: [ALERTS_TOPIC.name],
    stores: [],
    outputs: [],
    create(): Processor<Alert> {
      if (!poster) {
        throw new LzError("CONFIG", "the alert notifier runs only with alerts.slack_webhook_env set");
      }
      return {
        async process(rec, ctx) {
          const a = rec.value;
          if (!a) return; // a tombstone clears the compacted alert: nothing to say
          if (ctx.now() - rec.timestamp > poster.maxAgeMs) {
            poster.counter?.inc({ outcome: "stale" });
            return;
          }
          try {
            await retry(() => poster.post(a), {
              retries: poster.retries ?? 3,
              initialMs: poster.backoffMs ?? 200,
              maxMs: 10_000,
            });
          } catch (err) {
            poster.counter?.inc({ outcome: "failed" });
            // Not retriable for the host: the retries are spent; the record goes to the DLQ with this reason.
            throw new LzError("NOTIFY_FAILED", `cannot post alert ${a.id}: ${(err as Error).message}`, {
              cause: err,
            });
          }
          poster.counter?.inc({ outcome: "ok" });
          poster.onSent?.(a);
        },
      };
    },
  };
}

/** Posts to a webhook URL: 2xx is sent; 429 and 5xx and network errors are retriable; other 4xx are not. */
export function webhookPoster(url: string): (a: Alert) => Promise<void> {
  return async (a) => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: alertText(a) }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      // Never the URL (it is the secret): only what went wrong.
      throw new LzError("NOTIFY_UNREACHABLE", `the webhook is unreachable (${(err as Error).name})`, {
        retriable: true,
      });
    }
    await res.body?.cancel();
    if (res.ok) return;
    throw new LzError("NOTIFY_REFUSED", `the webhook answered ${res.status}`, {
      retriable: res.status === 429 || res.status >= 500,
      detail: { status: res.status },
    });
  };
}

/** The notifications counter (one per registry). */
function notificationsCounter(metrics: Registry): Counter<"outcome"> {
  const name = "lzsync_alert_notifications_total";
  return (metrics.getSingleMetric(name) as Counter<"outcome">) ?? new Counter({
    name,
    help:
      "Alert notifications posted (ok), given up and sent to the DLQ (failed), or too old to post (stale)",
    labelNames: ["outcome"],
    registers: [metrics],
  });
}

/** The notifier topology for a run, or null when no webhook URL is configured. */
export function createAlertNotifier(
  deps: AppDeps,
  o: { retries?: number; backoffMs?: number; onSent?(a: Alert): void } = {},
): Topology<Alert> | null {
  const cfg = deps.runtime.config.alerts;
  const url = cfg.slack_webhook_env ? deps.runtime.secret(cfg.slack_webhook_env) : undefined;
  if (!url) return null;
  return alertNotifierTopology({
    post: webhookPoster(url),
    maxAgeMs: parseDuration(cfg.notify_max_age),
    retries: o.retries,
    backoffMs: o.backoffMs,
    counter: notificationsCounter(deps.metrics),
    onSent: o.onSent,
  });
}
