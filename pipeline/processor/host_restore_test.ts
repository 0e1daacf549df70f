import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../broker/embedded/mod.ts";
import { silentLogger } from "../log.ts";
import { encodeJson } from "../serde.ts";
import { createHostState, newEntry } from "./host_state.ts";
import { ensureTopics } from "./host_topics.ts";
import { ready, restoreEntries } from "./host_restore.ts";
import { changelogTopic } from "./types.ts";
import { counterTopology, COUNTS_STORE } from "../../processors/counter/mod.ts";

Deno.test("restoreEntries fills a new task's stores from its changelog partition and counts the records", async () => {
  const broker = await createEmbeddedBroker();
  const topo = counterTopology("restore-steps");
  const state = createHostState({ broker, log: silentLogger }, topo);
  try {
    await ensureTopics(broker, topo);
    const p = await broker.producer();
    await p.send(changelogTopic(topo.app, COUNTS_STORE), [
      { key: "a", value: encodeJson(3), partition: 1 },
      { key: "b", value: encodeJson(4), partition: 1 },
      { key: "c", value: encodeJson(9), partition: 2 }, // another task's
    ]);
    await p.close();
    const e = newEntry(1);
    await restoreEntries(state, [e]);
    assert.deepEqual([...e.task!.stores.get(COUNTS_STORE)!.entries()].sort(), [["a", 3], ["b", 4]]);
    assert.deepEqual(e.positions, { [COUNTS_STORE]: 2 });
    assert.equal(state.totals.restored, 2);
  } finally {
    for (const e of state.entries.values()) await e.task?.close();
    await broker.close();
  }
});

Deno.test("ready restores once, and a failed restore is tried again by the next caller", async () => {
  const broker = await createEmbeddedBroker();
  const topo = counterTopology("restore-retry");
  const state = createHostState({ broker, log: silentLogger }, topo);
  const e = newEntry(0);
  try {
    await assert.rejects(ready(state, e)); // no changelog topic yet
    assert.equal(e.ready, null);
    await ensureTopics(broker, topo);
    const once = ready(state, e);
    assert.equal(ready(state, e), once, "one restore in flight");
    await once;
    assert.ok(e.task);
  } finally {
    await e.task?.close();
    await broker.close();
  }
});
