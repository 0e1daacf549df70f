/**
 * Quota-aware retries for Google API calls: RESOURCE_EXHAUSTED (gRPC 8, HTTP 429), UNAVAILABLE (14, 503) and
 * DEADLINE_EXCEEDED (4) are retried with exponential backoff and full jitter, honouring a server `RetryInfo`
 * delay when the error carries one. Anything else (permission, bad request, a bug) fails at once.
 */
import { LzError } from "../../pipeline/errors.ts";

/** Backoff settings. */
export interface BackoffOptions {
  /** Attempts in total, the first included (default 8). */
  maxAttempts?: number;
  /** First delay (default 1 s); doubles each attempt. */
  baseMs?: number;
  /** Cap of one delay (default 60 s). */
  maxMs?: number;
  /** Aborts waiting and gives up. */
  signal?: AbortSignal;
  /** Called before each wait (logs, metrics). */
  onRetry?(
    info: { attempt: number; delayMs: number; code: number | string | undefined; message: string },
  ): void;
  /** Random in [0,1) for jitter (tests pass a fixed one). */
  random?: () => number;
}

const RETRIABLE_CODES = new Set<number | string>([
  8,
  14,
  4,
  429,
  503,
  504,
  "RESOURCE_EXHAUSTED",
  "UNAVAILABLE",
]);

/** The gRPC/HTTP code of a Google client error, if any. */
export function errorCode(err: unknown): number | string | undefined {
  const e = err as { code?: number | string } | null;
  return e && (typeof e.code === "number" || typeof e.code === "string") ? e.code : undefined;
}

/** True for quota and availability errors that a later attempt may get past. */
export function isQuotaOrUnavailable(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && RETRIABLE_CODES.has(code);
}

/** The server-requested delay (google.rpc.RetryInfo) in ms, if the error carries one. */
export function retryInfoDelay(err: unknown): number | undefined {
  const details = (err as { statusDetails?: unknown[] } | null)?.statusDetails;
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    const delay = (d as { retryDelay?: { seconds?: number | string; nanos?: number } } | null)?.retryDelay;
    if (delay) return Number(delay.seconds ?? 0) * 1000 + Math.floor(Number(delay.nanos ?? 0) / 1e6);
  }
  return undefined;
}

/** Resolves after `ms`, or rejects with an `ABORTED` error when `signal` fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new LzError("ABORTED", "stopped while waiting to retry"));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new LzError("ABORTED", "stopped while waiting to retry"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Runs `fn`, retrying quota/availability errors with backoff. The last error is rethrown. */
export async function withBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  opts: BackoffOptions = {},
): Promise<T> {
  const max = opts.maxAttempts ?? 8;
  const base = opts.baseMs ?? 1000;
  const cap = opts.maxMs ?? 60_000;
  const random = opts.random ?? Math.random;
  for (let attempt = 1;; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= max || !isQuotaOrUnavailable(err) || opts.signal?.aborted) throw err;
      const exp = Math.min(cap, base * 2 ** (attempt - 1));
      const jittered = exp / 2 + random() * (exp / 2);
      const delayMs = Math.min(cap, Math.max(retryInfoDelay(err) ?? 0, jittered));
      opts.onRetry?.({ attempt, delayMs, code: errorCode(err), message: (err as Error).message });
      await sleep(delayMs, opts.signal);
    }
  }
}
