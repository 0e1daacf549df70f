import assert from "node:assert/strict";
import type { GatewayPlugin } from "./plugin.ts";
import { startTestGateway } from "./testing.ts";
import { encodeCursor } from "./cursor.ts";

const EVENTS = "lz.test.cursor.v1";
const plugin: GatewayPlugin = { name: "cursor-test", eventTopics: [EVENTS] };

Deno.test("a resume cursor beyond the end of a topic is a 400 with the reason; one at the end resumes", async () => {
  const t = await startTestGateway({ plugins: [plugin], config: { broker: { partitions: 1 } } });
  try {
    for (let i = 0; i < 3; i++) await t.produce(EVENTS, `k${i}`, { i }, 0);
    const sse = (cursor: string) => fetch(`${t.url}/api/v1/events?topic=${EVENTS}&cursor=${cursor}`);

    const beyond = await sse(encodeCursor({ p: { [EVENTS]: [10] } }));
    assert.equal(beyond.status, 400);
    assert.match(
      (await beyond.json()).reason,
      /cursor is beyond the end of lz\.test\.cursor\.v1 partition 0 \(offset 10, the topic ends at 3\); reconnect without a cursor/,
    );
    const partitions = await sse(encodeCursor({ p: { [EVENTS]: [0, 0, 0, 0, 0, 0, 0, 0, 0] } }));
    assert.equal(partitions.status, 400);
    assert.match(
      (await partitions.json()).reason,
      /names partition 8 of lz\.test\.cursor\.v1, which has \d+ partition/,
    );

    const ws = await fetch(`${t.url}/ws/sync-events?cursor=${encodeCursor({ p: { [EVENTS]: [10] } })}`, {
      headers: {
        upgrade: "websocket",
        connection: "upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    });
    assert.equal(ws.status, 400, "the WebSocket endpoint refuses it too");
    await ws.body?.cancel();

    const ok = await sse(encodeCursor({ p: { [EVENTS]: [3] } }));
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await t.stop();
  }
});
