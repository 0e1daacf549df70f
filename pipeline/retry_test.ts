import assert from "node:assert/strict";
import { abortableSleep, backoffDelay, retry } from "./retry.ts";
import { isRetriable, LzError, ValidationError } from "./errors.ts";

Deno.test("isRetriable() never retries programming errors or bad input, and takes flagged errors at their word", () => {
  for (const e of [new TypeError("x"), new RangeError("x"), new SyntaxError("x"), new ReferenceError("x")]) {
    assert.equal(isRetriable(e), false, e.name);
  }
  assert.equal(isRetriable(new ValidationError("bad", [{ path: "/a", message: "m" }])), false);
  assert.equal(isRetriable(new LzError("X", "down", { retriable: true })), true);
  assert.equal(isRetriable(new LzError("X", "bug")), false);
  // kafkajs errors carry their own flag
  assert.equal(isRetriable(Object.assign(new Error("leader"), { retriable: true })), true);
  assert.equal(isRetriable(Object.assign(new Error("auth"), { retriable: false })), false);
  // an unclassified error may be transient: retried within the caller's bound
  assert.equal(isRetriable(new Error("transient")), true);
  assert.equal(isRetriable("a string"), true);
});

Deno.test("backoffDelay() doubles from initialMs and stays within maxMs and the jitter band", () => {
  const b = { initialMs: 50, maxMs: 1000 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 60].map((a) => backoffDelay(a, b)), [
    50,
    100,
    200,
    400,
    800,
    1000,
    1000,
    1000,
  ]);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(3, { initialMs: 250, maxMs: 5000, jitter: 0.2 });
    assert.ok(d >= 1600 && d <= 2400, `${d}`);
  }
});

Deno.test("retry() retries a retriable failure with the backoff figures, then returns the result", async () => {
  const waits: number[] = [];
  let calls = 0;
  const out = await retry((attempt) => {
    calls++;
    if (attempt < 3) throw new LzError("DOWN", "down", { retriable: true });
    return "ok";
  }, {
    retries: 5,
    initialMs: 10,
    maxMs: 25,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  assert.equal(out, "ok");
  assert.equal(calls, 4);
  assert.deepEqual(waits, [10, 20, 25]);
});

Deno.test("retry() throws a non-retriable error at once and the last error when the retries are spent", async () => {
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      throw new TypeError("bug");
    }, { retries: 5, initialMs: 1, maxMs: 1 }),
    TypeError,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    retry(() => {
      throw new Error(`fail ${++calls}`);
    }, { retries: 2, initialMs: 1, maxMs: 1 }),
    /fail 3/,
  );
  assert.equal(calls, 3);
});

Deno.test("retry() stops when its signal aborts: a pending backoff ends at once with the abort reason", async () => {
  const ac = new AbortController();
  let calls = 0;
  const started = Date.now();
  const p = retry(() => {
    calls++;
    throw new Error("down");
  }, { retries: 10, initialMs: 60_000, maxMs: 60_000, signal: ac.signal });
  setTimeout(() => ac.abort(new Error("stopping")), 20);
  await assert.rejects(p, /stopping/);
  assert.equal(calls, 1);
  assert.ok(Date.now() - started < 5_000);
  // an already aborted signal makes no call at all
  calls = 0;
  await assert.rejects(
    retry(() => void calls++, { retries: 1, initialMs: 1, maxMs: 1, signal: ac.signal }),
    /stopping/,
  );
  assert.equal(calls, 0);
  await assert.rejects(abortableSleep(10, ac.signal), /stopping/);
});
