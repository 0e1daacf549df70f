import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../broker/embedded/mod.ts";
import { createLogger, silentLogger } from "../log.ts";
import { assign, processBatch, revoke } from "./host_consume.ts";
import { createHostState } from "./host_state.ts";
import { ensureTopics } from "./host_topics.ts";
import { counterTopology, COUNTS_STORE } from "../../processors/counter/mod.ts";
import { EVENTS } from "./_test_util.ts";

Deno.test("assign restores one task per new partition; revoke keeps a cleanly closed task's stores as a standby copy that the next assign adopts", async () => {
  const broker = await createEmbeddedBroker();
  const topo = counterTopology("consume-steps");
  const state = createHostState({ broker, log: silentLogger }, topo);
  try {
    await ensureTopics(broker, topo);
    await assign(state, [{ topic: EVENTS, partition: 0 }, { topic: EVENTS, partition: 1 }]);
    assert.deepEqual([...state.entries.keys()], [0, 1]);
    const first = state.entries.get(0)!.task!;
    assert.ok(first, "restored before any batch");
    await assign(state, [{ topic: EVENTS, partition: 0 }]);
    assert.equal(state.entries.get(0)!.task, first, "an assigned partition is not restored again");

    await revoke(state, [{ topic: EVENTS, partition: 0 }]);
    assert.deepEqual([...state.entries.keys()], [1]);
    assert.equal(
      state.standby.get(0)?.stores,
      first.stores,
      "the stores wait for the partition to come back",
    );
    await assign(state, [{ topic: EVENTS, partition: 0 }]);
    const again = state.entries.get(0)!.task!;
    assert.notEqual(again, first);
    assert.equal(
      again.stores.get(COUNTS_STORE),
      first.stores.get(COUNTS_STORE),
      "the standby copy is adopted (and caught up), not rebuilt",
    );
    assert.equal(state.standby.size, 0);

    state.stopping = Promise.resolve();
    await revoke(state, [{ topic: EVENTS, partition: 1 }]);
    assert.deepEqual([...state.entries.keys()], [0]);
    assert.equal(state.standby.has(1), false, "no standby copy while stopping");
  } finally {
    for (const e of state.entries.values()) await e.task?.close();
    await broker.close();
  }
});

Deno.test("assign logs a task that sees only some of its inputs (inputs not co-partitioned across members)", async () => {
  const broker = await createEmbeddedBroker();
  const lines: string[] = [];
  const other = "lz.hostcheck.second.v1";
  const topo = { ...counterTopology("consume-copart"), inputs: [EVENTS, other] };
  const state = createHostState(
    { broker, log: createLogger({ level: "error", sink: (l) => lines.push(l) }) },
    topo,
  );
  try {
    await broker.admin().createTopics([{ name: other, partitions: 4 }]);
    await ensureTopics(broker, topo);
    await assign(state, [{ topic: EVENTS, partition: 2 }, { topic: other, partition: 3 }]);
    const logged = lines.map((l) => JSON.parse(l)).filter((r) => /not co-partitioned/.test(r.msg));
    assert.deepEqual(logged.map((r) => [r.partition, r.assigned]), [[2, [`${EVENTS}:2`]], [3, [
      `${other}:3`,
    ]]]);
  } finally {
    for (const e of state.entries.values()) await e.task?.close();
    await broker.close();
  }
});

Deno.test("processBatch refuses a batch of a partition that is not assigned", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const state = createHostState({ broker, log: silentLogger }, counterTopology("consume-unassigned"));
    await assert.rejects(
      processBatch(state, { topic: EVENTS, partition: 7, records: [], highWatermark: 0 }),
      /got a batch of lz\.test\.events\.v1\/7, not assigned/,
    );
  } finally {
    await broker.close();
  }
});
