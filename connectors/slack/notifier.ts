/**
 * An optional Slack-compatible alert notifier: posts `{text}` (what Slack, Mattermost, Rocket.Chat and
 * Google Chat incoming webhooks accept) for every alert opened or resolved on `lz.alerts.v1`. Enabled when
 * `alerts.slack_webhook_env` names an environment variable that holds the webhook URL; the URL is a secret
 * and never logged.
 *
 * It is a topology like every other consumer of lzsync (app `lzsync-alert-notifier`): the processor host
 * decodes and validates each record (a bad one goes to `lz.dlq.v1`), `process` posts it with bounded retries,
 * and a post that still fails goes to the DLQ with the reason — nothing is skipped silently, and
 * `replay`/`lag` cover the group.
 *
 * Each transition is posted once. A transition is ordered by (`opened_at`, open before resolved); the latest
 * one handled per alert id is kept in the store `notified` and written to `lz.alerts.notified.v1`, the
 * delivery ledger. `replay` drops the store with the group's other state, but the ledger is an output, not a
 * changelog: the notifier reads it at start (a table), and a transition at or before the one it records —
 * every record a replay brings back, or a fresh copy of an old transition (a replay of `lzsync-sync-status`)
 * — is counted `duplicate`, not posted; a new episode (a later `opened_at`) or its resolve is news. A
 * transition older than `alerts.notify_max_age` when first read (a first start over a long-compacted alerts
 * topic) is counted `stale` and recorded, not posted. Delivery is at least once: a post made just before a
 * crash, ahead of the checkpoint that records it, is made again.
 */
import { Counter, type Registry } from "prom-client";
import type { AppDeps } from "../../pipeline/service.ts";
import type { Processor, ProcessorContext, Topology } from "../../pipeline/processor/types.ts";
import { parseDuration } from "../../pipeline/config.ts";
import { LzError } from "../../pipeline/errors.ts";
import { retry } from "../../pipeline/retry.ts";
import { type Alert, type AlertNotified, ALERTS_NOTIFIED_TOPIC, ALERTS_TOPIC } from "../../schemas/alerts.ts";

/** Consumer group / application id (persisted contract). */
export const ALERT_NOTIFIER_GROUP = "lzsync-alert-notifier";

/** The store of the latest transition handled per alert id (persisted contract: never rename). */
export const NOTIFIED_STORE = "notified";

/** A transition of an alert: which episode, and whether it opened or resolved. */
export type Transition = Pick<AlertNotified, "state" | "opened_at">;

/** True when transition `a` comes after `b` (a later episode, or the resolve of the same one). */
export function isAfter(a: Transition, b: Transition): boolean {
  const d = Date.parse(a.opened_at) - Date.parse(b.opened_at);
  return d > 0 || (d === 0 && a.state === "resolved" && b.state === "open");
}

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
    description: "posts each alert transition once to a Slack-compatible webhook (DLQ when it cannot)",
    inputs: [ALERTS_TOPIC.name],
    stores: [NOTIFIED_STORE],
    outputs: [ALERTS_NOTIFIED_TOPIC.name],
    // what was posted before a replay dropped the store (the ledger outlives it)
    tables: [{
      topic: ALERTS_NOTIFIED_TOPIC.name,
      select: (v) => ({ state: (v as AlertNotified).state, opened_at: (v as AlertNotified).opened_at }),
    }],
    create(): Processor<Alert> {
      if (!poster) {
        throw new LzError("CONFIG", "the alert notifier runs only with alerts.slack_webhook_env set");
      }
      const handled = (ctx: ProcessorContext, a: Alert, outcome: AlertNotified["outcome"]) => {
        const t: Transition = { state: a.state, opened_at: a.opened_at };
        ctx.store<Transition>(NOTIFIED_STORE).put(a.id, t);
        ctx.forward(
          ALERTS_NOTIFIED_TOPIC.name,
          a.id,
          {
            id: a.id,
            ...t,
            outcome,
            at: new Date(ctx.now()).toISOString(),
          } satisfies AlertNotified,
        );
      };
      return {
        async process(rec, ctx) {
          const a = rec.value;
          if (!a) return; // a tombstone clears the compacted alert: nothing to say
          const store = ctx.store<Transition>(NOTIFIED_STORE);
          const kept = store.get(a.id);
          const ledger = ctx.table<Transition>(ALERTS_NOTIFIED_TOPIC.name).get(a.id);
          const last = kept && ledger ? (isAfter(ledger, kept) ? ledger : kept) : kept ?? ledger;
          if (last && !isAfter(a, last)) {
            // handled before (this run, or before a replay dropped the store): the ledger says so
            if (last !== kept) store.put(a.id, last);
            poster.counter?.inc({ outcome: "duplicate" });
            return;
          }
          if (ctx.now() - rec.timestamp > poster.maxAgeMs) {
            poster.counter?.inc({ outcome: "stale" });
            handled(ctx, a, "stale");
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
          handled(ctx, a, "posted");
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
    help: "Alert transitions posted (ok), given up and sent to the DLQ (failed), too old to post (stale), " +
      "or handled before (duplicate: a replay, a re-sent transition)",
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
