/**
 * One retry helper for lzsync: bounded attempts, exponential backoff with an optional jitter, cancellation by
 * an AbortSignal, and the one retriability rule of `isRetriable()` (errors.ts). Loops whose shape does not fit
 * a single async call (the processor task's sync fast path, the Kafka producer's delivery deadline) use
 * `backoffDelay()` and `isRetriable()` directly, so the figures and the rule stay the same everywhere.
 */
import { isRetriable } from "./errors.ts";

/** Backoff figures: attempt 0 waits about `initialMs`, doubling each attempt up to `maxMs`. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** Fraction of random spread either side (0.2 = ±20 %); default 0 (deterministic). */
  jitter?: number;
}

/** Options of {@link retry}. */
export interface RetryOptions extends Backoff {
  /** Retries after the first attempt; the call is made at most `retries + 1` times. */
  retries: number;
  /** Stops the retries: a pending backoff ends at once and the abort reason is thrown. */
  signal?: AbortSignal;
  /** The retriability rule; default `isRetriable`. Override only to narrow it (e.g. "only unreachable"). */
  retriable?: (err: unknown) => boolean;
  /** Called before each backoff, e.g. to log the attempt. */
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
  /** Injectable sleep for tests; it must honour `signal`. Default a timer that `signal` cancels. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The wait before retry number `attempt` (0-based): `min(maxMs, initialMs * 2^attempt)`, ± jitter. */
export function backoffDelay(attempt: number, b: Backoff): number {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  const j = b.jitter ?? 0;
  return j === 0 ? base : Math.round(base * (1 - j + Math.random() * 2 * j));
}

/** Waits `ms`; rejects with the abort reason as soon as `signal` aborts, leaving no timer behind. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Calls `fn` until it resolves, it throws a non-retriable error, `retries` retries are spent (the last error is
 * thrown) or `signal` aborts (its reason is thrown). `fn` gets the 0-based attempt number.
 */
export async function retry<T>(fn: (attempt: number) => T | Promise<T>, o: RetryOptions): Promise<T> {
  const retriable = o.retriable ?? isRetriable;
  const sleep = o.sleep ?? abortableSleep;
  for (let attempt = 0;; attempt++) {
    if (o.signal?.aborted) throw o.signal.reason;
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= o.retries || !retriable(err) || o.signal?.aborted) throw err;
      const wait = backoffDelay(attempt, o);
      o.onRetry?.(err, attempt, wait);
      await sleep(wait, o.signal);
    }
  }
}
