import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../broker/embedded/mod.ts";
import { silentLogger } from "../log.ts";
import { createHostState, exclusive, newEntry } from "./host_state.ts";
import { counterTopology } from "../../processors/counter/mod.ts";

Deno.test("exclusive runs the work on one task one unit at a time, in order, past a failing unit", async () => {
  const e = newEntry(3);
  const log: string[] = [];
  const unit = (name: string, ms: number, fail = false) => async () => {
    log.push(`${name} start`);
    await new Promise((r) => setTimeout(r, ms));
    log.push(`${name} end`);
    if (fail) throw new Error(`${name} failed`);
  };
  const a = exclusive(e, unit("a", 20));
  const b = exclusive(e, unit("b", 1, true));
  const c = exclusive(e, unit("c", 1));
  await a;
  await assert.rejects(b, /b failed/, "the caller sees its unit's error");
  await c;
  assert.deepEqual(log, ["a start", "a end", "b start", "b end", "c start", "c end"]);
  await e.chain; // the chain itself never rejects
});

Deno.test("createHostState starts empty, with the defaults of a host", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const state = createHostState({ broker, log: silentLogger }, counterTopology("state-new"));
    assert.equal(state.app, "state-new");
    assert.deepEqual([state.entries.size, state.standby.size, state.outputPartitions.size], [0, 0, 0]);
    assert.deepEqual(state.totals, { processed: 0, dlq: 0, restored: 0 });
    assert.deepEqual([state.producer, state.consumer, state.stopping], [null, null, null]);
    assert.ok(Math.abs(state.clock.now() - Date.now()) < 60_000, "the wall clock by default");
    const e = newEntry(2);
    assert.deepEqual([e.partition, e.task, e.inputs.size, e.ready, e.positions], [2, null, 0, null, {}]);
  } finally {
    await broker.close();
  }
});
