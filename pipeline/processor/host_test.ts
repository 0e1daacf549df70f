import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../broker/embedded.ts";
import { silentLogger } from "../log.ts";
import { createProcessorHost } from "./host.ts";
import { counterTopology } from "../../processors/counter/mod.ts";
import { caughtUp, EVENTS, produceEvents, readCounts, sorted, waitFor } from "./_test_util.ts";

Deno.test("host counts every event exactly once and its digest equals the changelog digest", async () => {
  const broker = await createEmbeddedBroker();
  const topo = counterTopology("count-basic");
  const expected = await produceEvents(broker, 5000, 50);
  const host = createProcessorHost({ broker, log: silentLogger }, topo);
  try {
    await host.start();
    await waitFor("caught up", () => caughtUp(broker, topo.app));
    assert.deepEqual(sorted(await readCounts(broker, topo.app)), sorted(expected));
    assert.deepEqual(host.assigned(), [0, 1, 2, 3]);
  } finally {
    await host.stop();
    await broker.close();
  }
});
