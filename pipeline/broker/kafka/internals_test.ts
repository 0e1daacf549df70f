import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { AssignerProtocol } from "kafkajs";
import { coPartitionedAssignment, decodeAssignment } from "./internals.ts";

const parts = (n: number) => () => Array.from({ length: n }, (_, i) => i);

Deno.test("coPartitionedAssignment() puts partition p of every topic on the same member", () => {
  const members = [{ memberId: "b", topics: ["t1", "t2"] }, { memberId: "a", topics: ["t1", "t2"] }];
  const plan = coPartitionedAssignment(members, parts(3), ["t1", "t2"]);
  assert.deepEqual(Object.fromEntries(plan), {
    a: { t1: [0, 2], t2: [0, 2] },
    b: { t1: [1], t2: [1] },
  });
});

Deno.test("coPartitionedAssignment() assigns a topic only among members subscribed to it", () => {
  const members = [{ memberId: "a", topics: ["t1"] }, { memberId: "b", topics: ["t1", "t2"] }];
  const plan = coPartitionedAssignment(members, parts(2), ["t1", "t2"]);
  assert.deepEqual(plan.get("a"), { t1: [0] });
  assert.deepEqual(plan.get("b"), { t1: [1], t2: [0, 1] });
});

Deno.test("coPartitionedAssignment() gives a lone member everything and an extra member nothing", () => {
  assert.deepEqual(
    Object.fromEntries(coPartitionedAssignment([{ memberId: "m", topics: ["t"] }], parts(4), ["t"])),
    {
      m: { t: [0, 1, 2, 3] },
    },
  );
  const three = coPartitionedAssignment(
    ["x", "y", "z"].map((memberId) => ({ memberId, topics: ["t"] })),
    parts(2),
    ["t"],
  );
  assert.equal(three.has("z"), false);
});

Deno.test("decodeAssignment() reads kafkajs's encoding and tolerates an empty one", () => {
  const bytes = AssignerProtocol.MemberAssignment.encode({
    version: 0,
    assignment: { t: [1, 3] },
    userData: Buffer.alloc(0),
  });
  assert.deepEqual(decodeAssignment(bytes), { t: [1, 3] });
  assert.deepEqual(decodeAssignment(new Uint8Array(0)), {});
  assert.deepEqual(decodeAssignment(null), {});
});
