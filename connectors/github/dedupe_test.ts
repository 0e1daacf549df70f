import assert from "node:assert/strict";
import { DeliveryDedupe } from "./dedupe.ts";

Deno.test("DeliveryDedupe remembers only produced ids, evicts the least recent, shares concurrent produces", async () => {
  const d = new DeliveryDedupe(2);
  let produced = 0;
  const produce = () => Promise.resolve(++produced);
  assert.deepEqual(await d.once("a", produce), { duplicate: false, value: 1 });
  assert.deepEqual(await d.once("a", produce), { duplicate: true });
  await assert.rejects(d.once("b", () => Promise.reject(new Error("broker down"))));
  assert.deepEqual(await d.once("b", produce), { duplicate: false, value: 2 }, "a failed produce is retried");
  await d.once("c", produce); // evicts a
  assert.equal(d.size, 2);
  assert.deepEqual(await d.once("a", produce), { duplicate: false, value: 4 });

  let release!: () => void;
  const slow = () => new Promise<number>((r) => (release = () => r(++produced)));
  const first = d.once("x", slow);
  const second = d.once("x", produce);
  release();
  assert.deepEqual(await first, { duplicate: false, value: 5 });
  assert.deepEqual(await second, { duplicate: true });
  assert.equal(produced, 5);
});
