/**
 * Worker-thread entry of {@link BodyPool}: parses one write body per message with `parseBody` and posts
 * the outcome back. Runs off the gateway's event loop; the pool terminates it when a parse takes too long.
 */
/// <reference lib="deno.worker" />
import { setPriority } from "node:os";
import { type BodyLimits, parseBody } from "./body_parse.ts";

// Lower this thread's CPU priority (on Linux setpriority(0) applies to the calling thread only): when the
// machine is busy, the gateway's event loop gets the CPU before a parse does.
try {
  setPriority(0, 10);
} catch { /* not permitted or not supported: parse at normal priority */ }

/** A job sent to the worker. */
export interface BodyJob {
  id: number;
  text: string;
  contentType: string;
  limits: BodyLimits;
}

self.onmessage = (e: MessageEvent<BodyJob>) => {
  const { id, text, contentType, limits } = e.data;
  const t0 = performance.now();
  let outcome;
  try {
    outcome = parseBody(text, contentType, limits);
  } catch (err) {
    // A RangeError here is a stack overflow the caps did not foresee: answer it as too complex.
    outcome = err instanceof RangeError
      ? {
        ok: false,
        status: 413,
        error: "too_complex",
        reason: `the body is too complex to parse: ${err.message}`,
      }
      : { ok: false, status: 400, error: "bad_body", reason: `the body could not be parsed: ${String(err)}` };
  }
  self.postMessage({ id, outcome, ms: performance.now() - t0 });
};
