/**
 * Building and delivering GitHub-shaped webhooks: a `push` payload in GitHub's documented shape and an HTTP
 * delivery signed exactly as GitHub signs it (`X-Hub-Signature-256: sha256=<hex HMAC>` over the raw bytes,
 * `X-GitHub-Event`, `X-GitHub-Delivery`). Used by `demo-push`, the tests and the bench.
 */
import { signPayload } from "./signature.ts";

const ZERO = "0".repeat(40);

/** One commit of a push payload. */
export interface PayloadCommit {
  id: string;
  message?: string;
  timestamp?: string;
  added?: string[];
  modified?: string[];
  removed?: string[];
}

/** Inputs of {@link pushPayload}. */
export interface PushPayloadInput {
  /** `owner/name` */
  fullName: string;
  cloneUrl: string;
  ref?: string;
  /** Null for a created ref. */
  before: string | null;
  /** Null for a deleted ref. */
  after: string | null;
  commits?: PayloadCommit[];
  forced?: boolean;
  pusher?: string;
}

/** A push payload as GitHub documents it (the fields lzsync and common consumers read). */
export function pushPayload(i: PushPayloadInput): Record<string, unknown> {
  const [owner, name] = i.fullName.split("/");
  const commits = (i.commits ?? []).map((c) => ({
    id: c.id,
    tree_id: c.id,
    distinct: true,
    message: c.message ?? "",
    timestamp: c.timestamp ?? new Date().toISOString(),
    url: `${i.cloneUrl.replace(/\.git$/, "")}/commit/${c.id}`,
    author: { name: i.pusher ?? "lzsync", email: "lzsync@users.noreply.github.com" },
    committer: { name: i.pusher ?? "lzsync", email: "lzsync@users.noreply.github.com" },
    added: c.added ?? [],
    removed: c.removed ?? [],
    modified: c.modified ?? [],
  }));
  return {
    ref: i.ref ?? "refs/heads/main",
    before: i.before ?? ZERO,
    after: i.after ?? ZERO,
    created: i.before === null,
    deleted: i.after === null,
    forced: i.forced ?? false,
    base_ref: null,
    compare: `${i.cloneUrl.replace(/\.git$/, "")}/compare/${(i.before ?? ZERO).slice(0, 12)}...${
      (i.after ?? ZERO).slice(0, 12)
    }`,
    commits,
    head_commit: i.after === null ? null : commits.at(-1) ?? null,
    repository: {
      id: 1,
      name,
      full_name: i.fullName,
      private: true,
      owner: { name: owner, login: owner },
      clone_url: i.cloneUrl,
      default_branch: "main",
    },
    pusher: { name: i.pusher ?? "lzsync", email: "lzsync@users.noreply.github.com" },
    sender: { login: i.pusher ?? "lzsync", type: "User" },
  };
}

/** Options of {@link deliverWebhook}. */
export interface DeliveryOptions {
  event?: string;
  deliveryId?: string;
  /** Secret to sign with; omit to send no signature. */
  secret?: string;
  /** Override the signature header value (bad-signature tests). */
  signature?: string;
  /** Raw body instead of JSON.stringify(payload). */
  rawBody?: Uint8Array | string;
  /** `form`: `application/x-www-form-urlencoded` with the JSON in a `payload=` field (GitHub's API default). */
  contentType?: "json" | "form";
}

/** POSTs a delivery to `url` (e.g. `http://127.0.0.1:8080/webhooks/github`) and returns status + JSON. */
export async function deliverWebhook(
  url: string,
  payload: unknown,
  o: DeliveryOptions = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = o.rawBody ??
    (o.contentType === "form"
      ? new URLSearchParams({ payload: JSON.stringify(payload) }).toString()
      : JSON.stringify(payload));
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const headers: Record<string, string> = {
    "content-type": o.contentType === "form" ? "application/x-www-form-urlencoded" : "application/json",
    "user-agent": "GitHub-Hookshot/lzsync",
    "x-github-event": o.event ?? "push",
    "x-github-delivery": o.deliveryId ?? crypto.randomUUID(),
    "x-github-hook-id": "1",
  };
  if (o.signature !== undefined) headers["x-hub-signature-256"] = o.signature;
  else if (o.secret !== undefined) headers["x-hub-signature-256"] = signPayload(o.secret, bytes);
  const res = await fetch(url, { method: "POST", headers, body: bytes as Uint8Array<ArrayBuffer> });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, body: json };
}
