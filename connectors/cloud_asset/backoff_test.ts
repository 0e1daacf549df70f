import assert from "node:assert/strict";
import { isQuotaOrUnavailable, retryInfoDelay, withBackoff } from "./backoff.ts";

Deno.test("withBackoff() retries RESOURCE_EXHAUSTED with growing delays, then succeeds", async () => {
  const delays: number[] = [];
  let calls = 0;
  const r = await withBackoff(() => {
    if (++calls < 4) return Promise.reject(Object.assign(new Error("Quota exceeded"), { code: 8 }));
    return Promise.resolve("ok");
  }, { baseMs: 2, maxMs: 100, random: () => 0.999, onRetry: (i) => delays.push(i.delayMs) });
  assert.equal(r, "ok");
  assert.equal(calls, 4);
  assert.ok(delays[0] < delays[1] && delays[1] < delays[2], `delays grow: ${delays}`);
});

Deno.test("withBackoff() fails at once on a non-retriable error and after maxAttempts on quota errors", async () => {
  let calls = 0;
  await assert.rejects(
    withBackoff(() => {
      calls++;
      throw Object.assign(new Error("denied"), { code: 7 });
    }, { baseMs: 1 }),
    /denied/,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    withBackoff(() => {
      calls++;
      throw Object.assign(new Error("429"), { code: 429 });
    }, { baseMs: 1, maxAttempts: 3 }),
    /429/,
  );
  assert.equal(calls, 3);
});

Deno.test("withBackoff() waits at least the server's RetryInfo delay and stops when aborted", async () => {
  const err = Object.assign(new Error("slow down"), {
    code: 8,
    statusDetails: [{ retryDelay: { seconds: 0, nanos: 30_000_000 } }],
  });
  assert.equal(retryInfoDelay(err), 30);
  assert.ok(isQuotaOrUnavailable(err));
  const delays: number[] = [];
  let n = 0;
  await withBackoff(() => {
    return n++ === 0 ? Promise.reject(err) : Promise.resolve();
  }, { baseMs: 1, onRetry: (i) => delays.push(i.delayMs) });
  assert.equal(delays[0], 30);
  const ac = new AbortController();
  const p = withBackoff(() => {
    return Promise.reject(Object.assign(new Error("busy"), { code: 14 }));
  }, { baseMs: 10_000, signal: ac.signal });
  setTimeout(() => ac.abort(), 5);
  await assert.rejects(p, /stopped while waiting/);
});
