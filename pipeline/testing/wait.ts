/** Polling helpers of the tests: wait for a condition with a deadline, or pause for a bounded time. */

/**
 * Resolves once `cond()` holds (polled every 25 ms); rejects after `timeoutMs` with an error that names
 * `what` and, when given, the last `detail()` as JSON.
 */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
  detail?: () => unknown,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${JSON.stringify(detail())}` : ""}`,
      );
    }
    await sleep(25);
  }
}

/** Resolves after `ms` (a bounded pause, e.g. to show that something does NOT happen). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
