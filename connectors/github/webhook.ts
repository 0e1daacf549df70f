/**
 * `POST /webhooks/github`: GitHub push deliveries onto `lz.git.push.v1`, as a gateway plugin.
 *
 * In order: `X-Hub-Signature-256` missing or malformed, or no secret configured → 401 before the body is read;
 * `layers.webhook.max_inflight_bodies` bodies being read already → 503 with `Retry-After`, body unread; body
 * over `gateway.max_body_bytes` → 413 (read in chunks through the HMAC, never buffered beyond the limit);
 * signature not matching the current or previous secret → 401 (before anything is parsed); no `X-GitHub-Event` → 400; `ping` → 200; events other than `push` → 202
 * `ignored` (counted); malformed JSON or a payload without the documented fields → 400; a delivery id
 * already produced → 200 `duplicate`; otherwise the record is produced and the answer is 202 only after the
 * broker acknowledged it, 503 if it failed or did not within `layers.webhook.produce_timeout` (8 s) of
 * receipt — inside GitHub's 10 s, so GitHub marks the delivery failed instead of timing out, and a redelivery
 * or the safety-net poll picks the push up (a produce that lands late is harmless: the payload is a hint and
 * git is re-read at `after`). Every error body is `{error, reason}`.
 */
import type { Context, Hono } from "hono";
import { Counter, type Registry } from "prom-client";
import type { GatewayContext, GatewayPlugin } from "../gateway/plugin.ts";
import { describeError, ValidationError } from "../../pipeline/errors.ts";
import { encode } from "../../pipeline/serde.ts";
import { GIT_PUSH_TOPIC, type GitPush } from "../../schemas/git_push.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import { parseSignatureHeader, SignatureStream } from "./signature.ts";
import { InflightGate } from "./inflight.ts";
import { webhookSecrets } from "./secrets.ts";
import { DeliveryDedupe } from "./dedupe.ts";
import { needsCompare, pushFromPayload } from "./payload.ts";
import { createGitHubClient, type GitHubClient } from "./client.ts";
import { parseDuration } from "../../pipeline/config.ts";

/** The webhook route. */
export const WEBHOOK_PATH = "/webhooks/github";

/** Header carrying `X-GitHub-Delivery` on `lz.git.push.v1` records (the dedupe window is rebuilt from it). */
export const DELIVERY_HEADER = "lz-delivery-id";

/** Options of {@link githubWebhookPlugin}. */
export interface GitHubWebhookOptions {
  /** Compare-API client for pushes with empty/truncated file lists; default from `landing_zone.github`. */
  github?: GitHubClient | null;
  /** Delivery ids remembered for dedupe (default 10,000). */
  dedupeSize?: number;
  /** Budget for the Compare call inside the 10 s GitHub allows a delivery (default 3 s). */
  compareTimeoutMs?: number;
}

type Outcome =
  | "accepted"
  | "duplicate"
  | "ignored"
  | "ping"
  | "unauthorized"
  | "too_large"
  | "busy"
  | "bad_request"
  | "unavailable";

function deliveriesCounter(registry: Registry): Counter<"event" | "outcome"> {
  const name = "lzsync_webhook_deliveries_total";
  return (registry.getSingleMetric(name) as Counter<"event" | "outcome">) ?? new Counter({
    name,
    help:
      "GitHub webhook deliveries by event and outcome (accepted, duplicate, ignored, ping, unauthorized, ...)",
    labelNames: ["event", "outcome"],
    registers: [registry],
  });
}

/**
 * Reads a request body up to `max` bytes; null when it is larger (the rest is never read). `onChunk` sees
 * each chunk as it arrives (the webhook feeds its HMAC with it).
 */
export async function readCapped(
  req: Request,
  max: number,
  onChunk?: (chunk: Uint8Array) => void,
): Promise<Uint8Array | null> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > max) {
    await req.body?.cancel().catch(() => {});
    return null;
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    onChunk?.(value);
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The GitHub webhook as a gateway plugin. */
export function githubWebhookPlugin(options: GitHubWebhookOptions = {}): GatewayPlugin {
  let rebuild: Promise<void> | null = null;
  return {
    name: "github-webhook",
    writes: [GIT_PUSH_TOPIC.name],
    routes(app: Hono, ctx: GatewayContext) {
      const { runtime, broker } = ctx.deps;
      const cfg = runtime.config;
      const counter = deliveriesCounter(ctx.deps.metrics);
      const dedupe = new DeliveryDedupe(options.dedupeSize ?? 10_000);
      const secrets = webhookSecrets(runtime).then((s) => {
        if (s.generated) {
          ctx.log.warn("no webhook secret in the environment; using a generated first-run secret", {
            file: s.generated,
            env: cfg.layers.webhook.secret_env,
          });
        }
        return s.secrets;
      });
      secrets.catch(() => {});
      const gh = cfg.landing_zone.github;
      const github = options.github !== undefined ? options.github : gh
        ? createGitHubClient({
          owner: gh.owner,
          repo: gh.repo,
          baseUrl: gh.api_url,
          token: runtime.secret(cfg.landing_zone.token_env),
        })
        : null;
      const push = GIT_PUSH_TOPIC;
      rebuild = broker.admin().createTopics([{ name: push.name, partitions: push.partitions }])
        .then(() =>
          readTopicToEnd(broker, push.name, (r) => {
            const id = r.headers[DELIVERY_HEADER];
            if (id) dedupe.add(id);
          }, { tail: options.dedupeSize ?? 10_000, timeoutMs: 10_000 })
        ).then(
          (n) => ctx.log.debug("webhook dedupe window rebuilt", { records: n, ids: dedupe.size }),
          (err) => ctx.log.warn("cannot rebuild the webhook dedupe window", { error: describeError(err) }),
        );

      const answer = (
        c: Context,
        event: string,
        outcome: Outcome,
        status: number,
        body: Record<string, unknown>,
      ) => {
        counter.inc({ event, outcome });
        return c.json(body, status as 200);
      };

      const budgetMs = parseDuration(cfg.layers.webhook.produce_timeout);
      const inflight = new InflightGate(cfg.layers.webhook.max_inflight_bodies);
      const signatureReasons = {
        missing: "missing X-Hub-Signature-256 header",
        malformed: "X-Hub-Signature-256 must be sha256=<64 hex digits>",
        mismatch: "signature does not match the configured webhook secret",
        no_secret: "no webhook secret is configured",
      };
      app.post(WEBHOOK_PATH, async (c) => {
        const started = Date.now();
        const receivedAt = new Date(ctx.deps.clock.now()).toISOString();
        const event = c.req.header("x-github-event") ?? "";
        // The metric's event label: any well-formed name once the signature is verified (only GitHub can
        // send those), but before that only the names lzsync handles — an unsigned caller must not be able
        // to grow the label's values.
        const named = /^[a-z][a-z0-9_]{0,63}$/.test(event) ? event : "unknown";
        let ev = event === "push" || event === "ping" ? event : "unverified";
        if (!cfg.layers.webhook.enabled) {
          await c.req.raw.body?.cancel().catch(() => {});
          return answer(c, ev, "ignored", 404, {
            error: "not_found",
            reason: "layers.webhook.enabled is false",
          });
        }
        // Refused before reading: a body without a checkable signature is never buffered.
        const given = parseSignatureHeader(await secrets, c.req.header("x-hub-signature-256") ?? null);
        if (typeof given === "string") {
          await c.req.raw.body?.cancel().catch(() => {});
          return answer(c, ev, "unauthorized", 401, {
            error: "unauthorized",
            reason: signatureReasons[given],
          });
        }
        const release = inflight.enter();
        if (!release) {
          await c.req.raw.body?.cancel().catch(() => {});
          c.header("Retry-After", "1");
          return answer(c, ev, "busy", 503, {
            error: "unavailable",
            reason: `${inflight.limit} webhook bodies are being read already ` +
              `(layers.webhook.max_inflight_bodies); retry shortly`,
          });
        }
        const signature = new SignatureStream(await secrets, given);
        let body: Uint8Array | null;
        try {
          body = await readCapped(c.req.raw, cfg.gateway.max_body_bytes, (chunk) => signature.update(chunk));
        } catch {
          return answer(c, ev, "bad_request", 400, {
            error: "bad_request",
            reason: "the request body could not be read to its end",
          });
        } finally {
          release();
        }
        if (body === null) {
          return answer(c, ev, "too_large", 413, {
            error: "payload_too_large",
            reason: `request body exceeds ${cfg.gateway.max_body_bytes} bytes (gateway.max_body_bytes)`,
          });
        }
        const check = signature.check();
        if (check !== "ok") {
          return answer(c, ev, "unauthorized", 401, {
            error: "unauthorized",
            reason: signatureReasons[check],
          });
        }
        ev = named;
        if (!event) {
          return answer(c, ev, "bad_request", 400, {
            error: "bad_request",
            reason: "missing X-GitHub-Event header",
          });
        }
        if (event === "ping") return answer(c, ev, "ping", 200, { status: "pong" });
        if (event !== "push") {
          return answer(c, ev, "ignored", 202, { status: "ignored", reason: `event ${ev} is not handled` });
        }
        const deliveryId = c.req.header("x-github-delivery") ?? "";
        if (!/^[A-Za-z0-9._-]{1,128}$/.test(deliveryId)) {
          return answer(c, ev, "bad_request", 400, {
            error: "bad_request",
            reason: "missing or malformed X-GitHub-Delivery header",
          });
        }
        let push: GitPush;
        try {
          const text = new TextDecoder("utf-8", { fatal: true }).decode(body);
          const form = (c.req.header("content-type") ?? "").toLowerCase()
            .startsWith("application/x-www-form-urlencoded");
          const field = form ? new URLSearchParams(text).get("payload") : text;
          if (field === null) {
            throw new ValidationError(
              "a form-encoded delivery (application/x-www-form-urlencoded) must carry the JSON in a payload= field",
              [{ path: "/payload", message: "missing" }],
            );
          }
          const json = JSON.parse(field);
          push = pushFromPayload(json, { deliveryId, receivedAt, syncId: `wh-${deliveryId}` });
        } catch (err) {
          const reason = err instanceof ValidationError
            ? err.message
            : `body is not valid JSON: ${(err as Error).message}`;
          return answer(c, ev, "bad_request", 400, { error: "bad_request", reason });
        }
        const deadline = started + budgetMs;
        await withTimeout(rebuild ?? Promise.resolve(), Math.max(0, deadline - Date.now())).catch(() => {});
        try {
          const res = await dedupe.once(deliveryId, async () => {
            if (github && needsCompare(push) && push.before && push.after) {
              push.paths = await withTimeout(
                github.compare(push.before, push.after),
                Math.min(options.compareTimeoutMs ?? 3000, Math.max(0, deadline - Date.now() - 1000)),
              ).catch((err) => {
                ctx.log.warn("compare API unavailable; keeping the payload's lists", {
                  delivery_id: deliveryId,
                  error: describeError(err),
                });
                return push.paths;
              });
            }
            const produced = (async () => {
              const producer = await ctx.producer();
              const [md] = await producer.send(GIT_PUSH_TOPIC.name, [{
                key: push.repo,
                value: encode(GIT_PUSH_TOPIC.name, push),
                headers: { [DELIVERY_HEADER]: deliveryId },
              }]);
              return md;
            })();
            return await withTimeout(produced, Math.max(0, deadline - Date.now())).catch((err) => {
              if (err instanceof BudgetExceeded) {
                throw new BudgetExceeded(
                  `the broker did not acknowledge the event within ${cfg.layers.webhook.produce_timeout} of ` +
                    `receipt (layers.webhook.produce_timeout)`,
                );
              }
              throw err;
            });
          });
          if (res.duplicate) {
            return answer(c, ev, "duplicate", 200, { status: "duplicate", delivery_id: deliveryId });
          }
          ctx.log.info("push accepted", {
            delivery_id: deliveryId,
            repo: push.repo,
            ref: push.ref,
            after: push.after,
          });
          return answer(c, ev, "accepted", 202, {
            status: "accepted",
            delivery_id: deliveryId,
            sync_id: push.sync_id,
            topic: res.value.topic,
            partition: res.value.partition,
            offset: res.value.offset,
          });
        } catch (err) {
          ctx.log.error("cannot produce the push", { delivery_id: deliveryId, error: describeError(err) });
          return answer(c, ev, "unavailable", 503, {
            error: "unavailable",
            reason: `${
              err instanceof BudgetExceeded ? err.message : "the event could not be stored on the broker"
            }; GitHub does not retry: redeliver it, or the safety-net poll picks the change up`,
          });
        }
      });
    },
    async close() {
      await rebuild;
    },
  };
}

/** A step that did not finish within the delivery's budget. */
class BudgetExceeded extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<T>((
      _,
      rej,
    ) => (timer = setTimeout(() => rej(new BudgetExceeded(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
