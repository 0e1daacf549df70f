/**
 * Turns kafkajs errors into {@link LzError}s that say what failed and what to check. kafkajs wraps the
 * real cause in layers (`KafkaJSNumberOfRetriesExceeded` → `KafkaJSConnectionError` → the socket error), so
 * the useful facts (ECONNREFUSED, the topic, the Kafka error type) are dug out of the chain first.
 */
import { LzError } from "../../errors.ts";
import { backoffDelay } from "../../retry.ts";

/** Socket-level error codes that mean "the broker cannot be reached (now)". */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** kafkajs error names that mean the same. */
const UNREACHABLE_NAMES = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
]);

type AnyErr = {
  name?: string;
  message?: string;
  code?: string;
  type?: string;
  retriable?: boolean;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown[];
  /** KafkaJSDeleteGroupsError: per-group results with their own error. */
  groups?: { error?: unknown }[];
};

/** Every error in the cause chain of `err`, outermost first (bounded against cycles). */
export function causeChain(err: unknown): AnyErr[] {
  const chain: AnyErr[] = [];
  let cur: unknown = err;
  while (cur && typeof cur === "object" && chain.length < 10 && !chain.includes(cur as AnyErr)) {
    chain.push(cur as AnyErr);
    const e = cur as AnyErr;
    cur = e.cause ?? e.originalError;
  }
  return chain;
}

/** The socket error code (ECONNREFUSED, ENOTFOUND, ...) somewhere in the chain, if any. */
export function socketCode(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    if (typeof e.code === "string" && /^E[A-Z_]+$/.test(e.code)) return e.code;
    const m = /\b(E(?:CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|TIMEDOUT|PIPE|NOTFOUND|AI_AGAIN))\b/.exec(
      e.message ?? "",
    );
    if (m) return m[1];
    if (/Connection timeout/i.test(e.message ?? "")) return "ETIMEDOUT";
  }
  return undefined;
}

/** True when the error means the broker could not be reached (as opposed to a refused request). */
export function isUnreachable(err: unknown): boolean {
  const code = socketCode(err);
  if (code && UNREACHABLE_CODES.has(code)) return true;
  return causeChain(err).some((e) =>
    UNREACHABLE_NAMES.has(e.name ?? "") ||
    // kafkajs's connect() can resolve after the broker never answered; the next call then says this.
    /^Broker not connected$/.test(e.message ?? "")
  );
}

/** The Kafka protocol error type (e.g. `UNKNOWN_TOPIC_OR_PARTITION`) somewhere in the chain, if any. */
/**
 * kafkajs's "metadata not loaded" (KafkaJSTopicMetadataNotLoaded, KafkaJSMetadataNotLoaded): its cluster was
 * asked for a topic's partitions before a metadata answer listed the topic — a topic just created, or a
 * metadata refresh that raced with the question. Transient: refresh the metadata and ask again.
 */
export function isMetadataNotLoaded(err: unknown): boolean {
  return causeChain(err).some((e) =>
    (e as { name?: unknown }).name === "KafkaJSTopicMetadataNotLoaded" ||
    (e as { name?: unknown }).name === "KafkaJSMetadataNotLoaded"
  );
}

export function kafkaErrorType(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    if (typeof e.type === "string") return e.type;
    for (const inner of [...(e.errors ?? []), ...(e.groups ?? []).map((g) => g?.error)]) {
      const t = (inner as AnyErr | null)?.type;
      if (typeof t === "string") return t;
    }
  }
  return undefined;
}

/** The message a user sees when the brokers cannot be reached. */
export function unreachableMessage(address: string, code: string | undefined): string {
  const why = code === "ENOTFOUND" || code === "EAI_AGAIN"
    ? `${code}: the host name does not resolve`
    : code ?? "no answer";
  return `Cannot reach Kafka at ${address} (${why}); is the broker running? Set broker.brokers in lzsync.yaml`;
}

/**
 * Wraps any error from a kafkajs call in an {@link LzError}. `address` is the bootstrap list for messages;
 * `action` says what we were doing ("create topics", "send to lz.git.push.v1", ...). LzErrors pass through.
 */
export function toLzError(err: unknown, address: string, action: string): LzError {
  if (err instanceof LzError) return err;
  if (isUnreachable(err)) {
    return new LzError("BROKER_UNAVAILABLE", unreachableMessage(address, socketCode(err)), {
      cause: err,
      retriable: true,
      detail: { brokers: address, action },
    });
  }
  const type = kafkaErrorType(err);
  const root = causeChain(err).at(-1);
  const text = root?.message ?? String(err);
  if (type === "UNKNOWN_TOPIC_OR_PARTITION") {
    return new LzError(
      "UNKNOWN_TOPIC",
      `${action}: the topic does not exist on Kafka at ${address} (${text})`,
      {
        cause: err,
        detail: { brokers: address, action },
      },
    );
  }
  // The innermost error that states it is the one that knows (outer wrappers say "retries exceeded").
  const retriable = causeChain(err).findLast((e) => typeof e.retriable === "boolean")?.retriable === true;
  return new LzError(
    type ? `KAFKA_${type}` : "KAFKA_ERROR",
    `${action} failed on Kafka at ${address}: ${text}`,
    {
      cause: err,
      retriable,
      detail: { brokers: address, action, ...(type ? { kafkaError: type } : {}) },
    },
  );
}

/** Rejects with `onTimeout()` if `p` has not settled after `ms` (the timer never outlives the race). */
export async function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits `ms`, for backoff loops. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Exponential backoff with ±20 % jitter: attempt 0 → ~initial, doubling up to `max`. */
export function backoffMs(attempt: number, initial = 250, max = 5_000): number {
  return backoffDelay(attempt, { initialMs: initial, maxMs: max, jitter: 0.2 });
}
