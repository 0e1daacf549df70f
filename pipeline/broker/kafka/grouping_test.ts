import assert from "node:assert/strict";
import { groupingShapeProblem, kafkajsGrouping, linearGrouping } from "./grouping.ts";

type Msg = { key: string; partition: number };
const partitioner = ({ message, partitionMetadata }: { message: unknown; partitionMetadata: unknown[] }) => {
  const p = (message as Msg).partition;
  if (p >= partitionMetadata.length) throw new RangeError(`no partition ${p}`);
  return p;
};

Deno.test("linearGrouping: kafkajs's groupMessagesPerPartition gives the same grouping (keys, arrays, order)", () => {
  assert.equal(
    groupingShapeProblem(),
    null,
    "the pinned kafkajs has the grouping shape linearGrouping is for",
  );
  const group = kafkajsGrouping();
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (const [count, parts] of [[0, 1], [1, 1], [7, 3], [2000, 1], [2500, 4], [300, 12]]) {
    const partitionMetadata = Array.from({ length: parts }, (_, i) => ({ partitionId: i }));
    const messages: Msg[] = Array.from(
      { length: count },
      (_, i) => ({ key: `k${i}`, partition: rnd(parts) }),
    );
    const stock = group({ topic: "t", partitionMetadata, messages: [...messages], partitioner });
    const linear = group({
      topic: "t",
      partitionMetadata,
      messages: linearGrouping([...messages]),
      partitioner,
    });
    assert.deepEqual(Object.keys(linear), Object.keys(stock), `keys, ${count} messages over ${parts}`);
    for (const k of Object.keys(stock)) {
      assert.equal(linear[k].length, stock[k].length, `partition ${k}`);
      stock[k].forEach((m, i) =>
        assert.equal(linear[k][i], m, `partition ${k} message ${i}: same object, same order`)
      );
    }
  }
});

Deno.test("linearGrouping: kafkajs's partitioner still runs on every message (its error is thrown as before)", () => {
  const group = kafkajsGrouping();
  const messages: Msg[] = [{ key: "a", partition: 0 }, { key: "b", partition: 5 }];
  const partitionMetadata = [{ partitionId: 0 }, { partitionId: 1 }];
  assert.throws(
    () => group({ topic: "t", partitionMetadata, messages: linearGrouping([...messages]), partitioner }),
    (e) => e instanceof RangeError && e.message === "no partition 5",
  );
});

Deno.test("groupingShapeProblem: a changed kafkajs grouping is reported, so it is left to kafkajs", () => {
  assert.match(
    groupingShapeProblem(() => ({ messages }: { messages: unknown[] }) => ({ 0: messages }))!,
    /changed/,
  );
  assert.match(groupingShapeProblem(() => 42)!, /not a function/);
  assert.match(
    groupingShapeProblem(() => {
      throw new Error("moved");
    })!,
    /cannot be loaded \(moved\)/,
  );
});
