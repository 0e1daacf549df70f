import assert from "node:assert/strict";
import { Frame } from "./frames.ts";
import { WsSink } from "./sinks.ts";

/** A WebSocket that never drains: every sent byte stays buffered; counts reads of `bufferedAmount`. */
function stuckSocket() {
  const s = {
    buffered: 0,
    reads: 0,
    get bufferedAmount() {
      s.reads++;
      return s.buffered;
    },
    send(text: string) {
      s.buffered += text.length;
    },
    close() {},
  };
  return s;
}

Deno.test("WsSink: a healthy client's bufferedAmount is read once per budget of frames, not per send; over budget is a fresh read", () => {
  const socket = stuckSocket();
  const sink = new WsSink(socket as unknown as WebSocket);
  const budget = 1024 * 1024;
  const frame = new Frame("c", `"topic":"t","key":"k","data":"${"x".repeat(180)}"}`);
  let sent = 0;
  while (sink.reserve(frame.text.length, budget)) {
    sink.send(frame);
    sent++;
    assert.ok(sent < 100_000, "the budget was never enforced");
  }
  // The socket never drained: it holds all it was given, which is within the budget.
  assert.equal(socket.buffered, sent * frame.text.length);
  assert.ok(socket.buffered <= budget && socket.buffered + frame.text.length > budget);
  // Thousands of sends cost two reads: one to open the credit, one fresh read for the over-budget verdict.
  assert.ok(sent > 4000, `${sent} frames`);
  assert.equal(socket.reads, 2);
});
