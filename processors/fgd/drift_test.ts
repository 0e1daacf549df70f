import assert from "node:assert/strict";
import { compareStates } from "./drift.ts";
import { checkDraft, type Draft, isApplied, isStale } from "./drafts.ts";
import type { KubeObject } from "./object.ts";

const desired: KubeObject = {
  apiVersion: "vpc.githedgehog.com/v1beta1",
  kind: "VPC",
  metadata: {
    name: "vpc-1",
    namespace: "default",
    labels: { team: "a" },
    annotations: { "lzsync.io/source-file": "raw/a.yaml" },
  },
  spec: { subnets: { default: { subnet: "10.0.1.0/24", vlan: 1001 } }, permit: [["a", "b"]] },
};

Deno.test("compareStates ignores what only the cluster adds (defaults, status, controller labels)", () => {
  const actual = structuredClone(desired) as any;
  delete actual.metadata.annotations;
  actual.metadata.labels["fabric.githedgehog.com/ipv4ns"] = "default";
  actual.metadata.uid = "u";
  actual.spec.ipv4Namespace = "default";
  actual.spec.subnets.default.gateway = "10.0.1.1";
  actual.status = { vni: 100 };
  assert.deepEqual(compareStates(desired, actual), { state: "in-sync", fields: [] });
});

Deno.test("compareStates lists each desired field whose actual value differs", () => {
  const actual = structuredClone(desired) as any;
  actual.spec.subnets.default.vlan = 1002;
  actual.spec.permit = [["a"]];
  actual.metadata.labels.team = "b";
  assert.deepEqual(compareStates(desired, actual), {
    state: "differs",
    fields: ["metadata.labels.team", "spec.subnets.default.vlan", "spec.permit[0]"],
  });
  assert.equal(compareStates(desired, undefined).state, "missing");
  assert.equal(compareStates(undefined, actual).state, "extra");
});

const draft = (over: Partial<Draft>): Draft => ({
  op: "put",
  object: desired,
  hash: "sha256:new",
  base_hash: "sha256:base",
  state: "open",
  author: "alice",
  created_at: "t0",
  updated_at: "t0",
  error: null,
  conflict: null,
  ...over,
});

Deno.test("checkDraft marks an open draft conflicted when git moved under it, keeping both versions", () => {
  const theirs = { ...desired, spec: { subnets: {} } };
  const d = checkDraft(draft({}), { object: theirs, hash: "sha256:theirs" }, "c".repeat(40), "t1");
  assert.equal(d.state, "conflicted");
  assert.deepEqual(d.conflict, {
    theirs,
    theirs_hash: "sha256:theirs",
    commit: "c".repeat(40),
    detected_at: "t1",
  });
  assert.equal(d.object, desired, "the draft's own version is kept");
  assert.equal(checkDraft(draft({}), { object: desired, hash: "sha256:base" }, null, "t1").state, "open");
  assert.equal(
    checkDraft(draft({}), { object: desired, hash: "sha256:new" }, null, "t1").state,
    "open",
    "git already has it",
  );
  const del = draft({ op: "delete", object: null, hash: null });
  assert.equal(checkDraft(del, undefined, null, "t1").state, "open", "deleted in git too");
  assert.equal(
    checkDraft(draft({ base_hash: null }), undefined, null, "t1").state,
    "open",
    "creation, still absent",
  );
  assert.equal(
    checkDraft(draft({ base_hash: null }), { object: desired, hash: "sha256:x" }, null, "t1").state,
    "conflicted",
  );
});

Deno.test("isStale and isApplied", () => {
  assert.equal(isStale(draft({}), "sha256:base"), false);
  assert.equal(isStale(draft({}), "sha256:other"), true);
  assert.equal(isApplied(draft({}), "sha256:new"), true);
  assert.equal(isApplied(draft({ op: "delete" }), null), true);
});
