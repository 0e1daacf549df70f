import assert from "node:assert/strict";
import { sleep, waitFor } from "./wait.ts";

Deno.test("waitFor() resolves once the condition holds, sync or async", async () => {
  let n = 0;
  await waitFor(() => ++n >= 3, "three polls", 2_000);
  assert.equal(n, 3);
  await waitFor(() => Promise.resolve(true), "an async condition", 100);
});

Deno.test("waitFor() rejects after the deadline, naming what it waited for and the detail", async () => {
  const t0 = Date.now();
  await assert.rejects(
    waitFor(() => false, "the impossible", 100, () => ({ seen: 0 })),
    /timed out after 100 ms waiting for the impossible: \{"seen":0\}/,
  );
  assert.ok(Date.now() - t0 >= 100);
});

Deno.test("sleep() waits at least the given time", async () => {
  const t0 = performance.now();
  await sleep(30);
  assert.ok(performance.now() - t0 >= 29);
});
