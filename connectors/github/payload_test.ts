import assert from "node:assert/strict";
import { ValidationError } from "../../pipeline/errors.ts";
import { MAX_PATHS, pathsFromCommits, PAYLOAD_MAX_COMMITS, pushFromPayload } from "./payload.ts";
import { pushPayload } from "./deliver.ts";

const meta = { deliveryId: "d", receivedAt: "2024-05-01T00:00:00.000Z", syncId: "wh-d" };

Deno.test("pathsFromCommits unions the commits' lists and says when they may be incomplete", () => {
  const p = pathsFromCommits([
    { added: ["a"], modified: ["m"], removed: [] },
    { added: [], modified: ["m", "n"], removed: ["r"] },
  ], 2);
  assert.deepEqual(p, {
    added: ["a"],
    modified: ["m", "n"],
    removed: ["r"],
    truncated: false,
    from: "payload",
  });
  assert.equal(pathsFromCommits([{ added: ["a"] }], 1).truncated, true, "a commit without all three lists");
  const many = Array.from({ length: PAYLOAD_MAX_COMMITS }, () => ({ added: [], modified: [], removed: [] }));
  assert.equal(pathsFromCommits(many, many.length).truncated, true, "GitHub's commit cap reached");
  const huge = [{
    added: Array.from({ length: MAX_PATHS + 1 }, (_, i) => `f${i}`),
    modified: [],
    removed: [],
  }];
  const capped = pathsFromCommits(huge, 1);
  assert.equal(capped.added.length, MAX_PATHS);
  assert.equal(capped.truncated, true);
  assert.deepEqual(pathsFromCommits([], 0).from, "none");
});

Deno.test("pushFromPayload maps GitHub's zero shas to null and rejects what it cannot use", () => {
  const created = pushFromPayload(
    pushPayload({ fullName: "o/r", cloneUrl: "u", before: null, after: "b".repeat(40) }),
    meta,
  );
  assert.deepEqual([created.before, created.created, created.after], [null, true, "b".repeat(40)]);
  const deleted = pushFromPayload(
    pushPayload({ fullName: "o/r", cloneUrl: "u", before: "a".repeat(40), after: null }),
    meta,
  );
  assert.deepEqual([deleted.after, deleted.deleted, deleted.head_commit], [null, true, null]);
  for (
    const bad of [[], "x", null, { ref: "r" }, {
      ...pushPayload({ fullName: "o/r", cloneUrl: "u", before: null, after: null }),
      forced: "yes",
    }]
  ) {
    assert.throws(() => pushFromPayload(bad, meta), ValidationError);
  }
});
