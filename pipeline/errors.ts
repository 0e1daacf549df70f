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

/** True when retrying the operation that threw `err` may help. Programming errors never are. */
export function isRetriable(err: unknown): boolean {
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return false;
  if (err instanceof LzError) return err.retriable;
  const e = err as { retriable?: boolean; code?: string } | null;
  if (e && typeof e.retriable === "boolean") return e.retriable; // kafkajs errors carry this flag
  return false;
}

/** A short, secret-free description of any thrown value, for logs, DLQ records and API errors. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
