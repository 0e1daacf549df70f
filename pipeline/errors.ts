/**
 * The root error of lzsync. `code` is stable and machine-readable; `retriable` says whether the same call may
 * succeed later (a broker that is down) or never will (bad input, a bug). Never retry a TypeError/RangeError.
 */
export class LzError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  /** Extra structured detail (field path, topic, offset, ...). Must never contain secrets. */
  readonly detail: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; retriable?: boolean; detail?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "LzError";
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.detail = options.detail ?? {};
  }
}

/** Bad input from outside (a record, a request, a file): a value to route to the DLQ or a 4xx, not a crash. */
export class ValidationError extends LzError {
  /** Each problem with the JSON path of the offending field and what would be valid. */
  readonly issues: { path: string; message: string }[];
  constructor(
    message: string,
    issues: { path: string; message: string }[],
    detail: Record<string, unknown> = {},
  ) {
    super("VALIDATION", message, { retriable: false, detail });
    this.name = "ValidationError";
    this.issues = issues;
  }
}

/**
 * The one retriability rule of lzsync (used by `retry()` in `retry.ts`, the processor task and every
 * connector retry loop): programming errors (TypeError, RangeError, SyntaxError, ReferenceError) never retry;
 * an error that says whether it is retriable (LzError, ValidationError, kafkajs errors) is taken at its word;
 * anything else (a plain Error nobody classified) may be transient and is retried, within the caller's bound.
 */
export function isRetriable(err: unknown): boolean {
  if (
    err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError ||
    err instanceof ReferenceError
  ) return false;
  if (err instanceof LzError) return err.retriable;
  const e = err as { retriable?: unknown } | null;
  if (e && typeof e === "object" && typeof e.retriable === "boolean") return e.retriable; // kafkajs errors
  return true;
}

/** A short, secret-free description of any thrown value, for logs, DLQ records and API errors. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
