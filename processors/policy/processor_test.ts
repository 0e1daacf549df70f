import assert from "node:assert/strict";
import { createTestDriver, type TestDriver } from "../../pipeline/processor/driver.ts";
import type { AssetRecord, AssetState } from "../../schemas/assets.ts";
import type { ComplianceScore, Evaluation, Governance } from "../../schemas/compliance.ts";
import type { Violation } from "../../schemas/violations.ts";
import { governanceTopology, policyTopology, scoresTopology } from "./mod.ts";
import { parsePmo } from "./governance.ts";
import { asset } from "./test_assets.ts";

const FW = "compute.googleapis.com/Firewall";
const VM = "compute.googleapis.com/Instance";

function state(type: AssetState["type"], a: AssetRecord, at: string): AssetState {
  return {
    type,
    name: a.name,
    asset: a,
    source: "api",
    snapshot_id: "s",
    message_id: null,
    changed_at: at,
    observed_at: at,
  };
}
const pipeAsset = (d: TestDriver, type: AssetState["type"], a: AssetRecord, at: string) =>
  d.pipe("lz.assets.v1", a.name, state(type, a, at));
const violations = (d: TestDriver) => d.forwarded("lz.violations.v1").map((r) => r.value as Violation);
/** The scores: the policy task's score parts through the real `lzsync-policy-scores` topology. */
async function scores(d: TestDriver): Promise<Map<string, ComplianceScore | null>> {
  const totals = createTestDriver(scoresTopology());
  for (const r of d.forwarded("lz.compliance.score_parts.v1")) {
    await totals.pipe("lz.compliance.score_parts.v1", r.key, r.value);
  }
  const out = new Map(
    totals.forwarded("lz.compliance.scores.v1").map((r) => [r.key!, r.value as ComplianceScore | null]),
  );
  await totals.close();
  return out;
}

const sshOpen = asset(FW, "allow-ssh", {
  direction: "INGRESS",
  sourceRanges: ["0.0.0.0/0"],
  allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
});
const sshClosed = asset(FW, "allow-ssh", {
  direction: "INGRESS",
  sourceRanges: ["10.0.0.0/8"],
  allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
});

Deno.test("policy: a violation opens, stays open with last_seen moving, and resolves as fixed with its first_seen", async () => {
  const d = createTestDriver(policyTopology());
  await pipeAsset(d, "resource_created", sshOpen, "2024-05-01T00:00:00.000Z");
  await pipeAsset(
    d,
    "resource_updated",
    { ...sshOpen, data: { ...sshOpen.data, description: "x" } },
    "2024-05-01T01:00:00.000Z",
  );
  await pipeAsset(d, "resource_updated", sshClosed, "2024-05-01T02:00:00.000Z");
  const ssh = violations(d).filter((v) => v.rule_id === "cis-gcp-3.6-ssh-open");
  assert.deepEqual(ssh.map((v) => [v.type, v.state, v.first_seen, v.last_seen]), [
    ["policy_violated", "open", "2024-05-01T00:00:00.000Z", "2024-05-01T00:00:00.000Z"],
    ["policy_violated", "open", "2024-05-01T00:00:00.000Z", "2024-05-01T01:00:00.000Z"],
    ["policy_resolved", "resolved", "2024-05-01T00:00:00.000Z", "2024-05-01T01:00:00.000Z"],
  ]);
  assert.equal(ssh[2].resolution, "fixed");
  assert.equal(ssh[2].resolved_at, "2024-05-01T02:00:00.000Z");
  assert.equal(ssh[0].severity, "high");
  assert.deepEqual(ssh[0].benchmarks, ["CIS GCP 3.6"]);
  assert.equal(ssh[0].id, `cis-gcp-3.6-ssh-open|${sshOpen.name}`);
  // Evaluations: one record per asset whenever a pass/fail changes (not for the unchanged second update).
  const evals = d.forwarded("lz.compliance.evaluations.v1").map((r) => r.value as Evaluation);
  assert.deepEqual(evals.map((e) => e.results.map((x) => `${x.rule_id}:${x.passed}`).join(" ")), [
    "cis-gcp-3.6-ssh-open:false cis-gcp-3.7-rdp-open:true",
    "cis-gcp-3.6-ssh-open:true cis-gcp-3.7-rdp-open:true",
  ]);
  assert.deepEqual([evals[1].passed, evals[1].evaluated], [2, 2]);
  await d.close();
});

Deno.test("policy: deleting an asset resolves its violations and removes its evaluations; scores follow", async () => {
  const d = createTestDriver(policyTopology({ scoreIntervalMs: 1000 }));
  const vm = asset(VM, "web", { networkInterfaces: [{ accessConfigs: [{ natIP: "34.1.1.1" }] }] }, {
    location: "europe-west1-b",
  });
  await pipeAsset(d, "resource_created", sshOpen, "2024-05-01T00:00:00.000Z");
  await pipeAsset(d, "resource_created", vm, "2024-05-01T00:00:00.000Z");
  await d.advance(1000);
  let s = await scores(d);
  // firewall: 3.6 fail, 3.7 pass; vm: 4.4 pass, 4.9 fail -> 2 of 4
  assert.deepEqual([
    s.get("overall")?.passed,
    s.get("overall")?.evaluated,
    s.get("overall")?.score,
    s.get("overall")?.open_violations,
  ], [2, 4, 50, 2]);
  assert.equal(s.get("project:p1")?.score, 50);
  assert.equal(s.get("rule:cis-gcp-3.6-ssh-open")?.score, 0);
  assert.equal(s.get("rule:cis-gcp-3.7-rdp-open")?.score, 100);
  d.clear();
  await pipeAsset(d, "resource_deleted", sshOpen, "2024-05-01T03:00:00.000Z");
  const v = violations(d);
  assert.deepEqual(v.map((x) => [x.rule_id, x.state, x.resolution]), [[
    "cis-gcp-3.6-ssh-open",
    "resolved",
    "asset_deleted",
  ]]);
  assert.deepEqual(d.forwarded("lz.compliance.evaluations.v1").map((r) => [r.key, r.value]), [[
    sshOpen.name,
    null,
  ]]);
  await d.advance(1000);
  s = await scores(d);
  assert.deepEqual(
    [s.get("overall")?.passed, s.get("overall")?.evaluated, s.get("overall")?.open_violations],
    [1, 2, 1],
  );
  assert.equal(s.get("rule:cis-gcp-3.7-rdp-open"), null, "a rule with nothing evaluated is removed");
  await d.close();
});

Deno.test("policy: a pmo.yaml change re-evaluates every asset's governance rules; removing a rule resolves its violations", async () => {
  const d = createTestDriver(policyTopology());
  const vm = asset(VM, "app", { labels: { owner: "ana" } }, { location: "asia-east1-a" });
  await pipeAsset(d, "resource_created", vm, "2024-05-01T00:00:00.000Z");
  assert.equal(violations(d).length, 0);
  const g: Governance = {
    repo: "lz",
    path: "pmo.yaml",
    commit: null,
    present: true,
    ...parsePmo("required_labels: [owner, cost-center]\nallowed_regions: [europe-west1]"),
    updated_at: "2024-05-02T00:00:00.000Z",
  };
  await d.pipe("lz.compliance.governance.v1", "pmo", g);
  assert.deepEqual(violations(d).map((v) => [v.rule_id, v.state, v.first_seen]), [
    ["pmo-required-labels", "open", "2024-05-02T00:00:00.000Z"],
    ["pmo-allowed-regions", "open", "2024-05-02T00:00:00.000Z"],
  ]);
  assert.match(violations(d)[0].message, /cost-center missing/);
  d.clear();
  // A later asset is evaluated against the stored governance too.
  await pipeAsset(
    d,
    "resource_created",
    asset(VM, "ok", { labels: { owner: "a", "cost-center": "1" } }, { location: "europe-west1-d" }),
    "2024-05-02T01:00:00.000Z",
  );
  assert.equal(violations(d).length, 0);
  d.clear();
  await d.pipe("lz.compliance.governance.v1", "pmo", {
    ...g,
    ...parsePmo("required_labels: [owner]"),
    updated_at: "2024-05-03T00:00:00.000Z",
  });
  assert.deepEqual(violations(d).map((v) => [v.rule_id, v.state, v.resolution]), [
    ["pmo-required-labels", "resolved", "fixed"],
    ["pmo-allowed-regions", "resolved", "rule_removed"],
  ]);
  await d.close();
});

Deno.test("policy: Landing Zone policy_violated events open violations once; deleting the asset resolves them", async () => {
  const d = createTestDriver(policyTopology());
  const ev = {
    type: "policy_violated",
    message_id: "m1",
    publish_time: "2024-05-01T00:00:00.000Z",
    subscription: "s",
    rule_id: "org-policy-no-external-ip",
    asset_name: sshOpen.name,
    asset_type: FW,
    project: "p1",
    severity: "high",
    message: "external IP",
  };
  await d.pipe("lz.infra.events.v1", sshOpen.name, ev);
  await d.pipe("lz.infra.events.v1", sshOpen.name, ev);
  assert.deepEqual(violations(d).map((v) => [v.rule_id, v.source, v.state]), [[
    "lz:org-policy-no-external-ip",
    "lz",
    "open",
  ]]);
  await pipeAsset(d, "resource_created", sshOpen, "2024-05-01T00:10:00.000Z");
  d.clear();
  await pipeAsset(d, "resource_deleted", sshOpen, "2024-05-01T01:00:00.000Z");
  assert.ok(
    violations(d).some((v) =>
      v.rule_id === "lz:org-policy-no-external-ip" && v.resolution === "asset_deleted"
    ),
  );
  await d.close();
});

Deno.test("governance processor: pmo.yaml from git becomes governance; invalid goes to the DLQ; deletion clears it", async () => {
  const d = createTestDriver(governanceTopology());
  const file = (content: string) => ({
    kind: "file",
    repo: "lz",
    path: "pmo.yaml",
    commit: "a".repeat(40),
    commit_time: "2024-05-01T00:00:00.000Z",
    size: content.length,
    blob_sha: "b".repeat(40),
    mode: "100644",
    change: "modified",
    content,
    encoding: "utf-8",
    content_ref: null,
    sync_id: "s1",
    synced_at: "2024-05-01T00:00:05.000Z",
  });
  await d.pipe(
    "lz.git.files.v1",
    "lz:pmo.yaml",
    file("required_labels: [owner]\nallowed_regions: [europe-west1]"),
  );
  await d.pipe("lz.git.files.v1", "lz:docs/pmo.yaml", { ...file("x: 1"), path: "docs/pmo.yaml" });
  await d.pipe("lz.git.files.v1", "lz:pmo.yaml", file("required_labels: [{key: a, pattern: '(['}]"));
  await d.pipe("lz.git.files.v1", "lz:pmo.yaml", null);
  const out = d.forwarded("lz.compliance.governance.v1").map((r) => r.value as Governance);
  assert.equal(out.length, 2);
  assert.deepEqual(out[0].required_labels, [{ key: "owner", pattern: null, allowed: null }]);
  assert.equal(out[0].commit, "a".repeat(40));
  assert.equal(out[1].present, false);
  assert.equal(d.dlq().length, 1);
  assert.match(d.dlq()[0].error, /required_labels\/0\/pattern/);
  await d.close();
});

Deno.test("governance processor: over 3 partitions the rules go to every partition (each policy task reads its own)", async () => {
  const d = createTestDriver(governanceTopology(), { keyedPartitions: 3 });
  await d.pipe("lz.git.files.v1", "lz:pmo.yaml", {
    kind: "file",
    repo: "lz",
    path: "pmo.yaml",
    commit: "a".repeat(40),
    commit_time: "2024-05-01T00:00:00.000Z",
    size: 24,
    blob_sha: "b".repeat(40),
    mode: "100644",
    change: "modified",
    content: "required_labels: [owner]",
    encoding: "utf-8",
    content_ref: null,
    sync_id: "s1",
    synced_at: "2024-05-01T00:00:05.000Z",
  });
  const out = d.forwarded("lz.compliance.governance.v1");
  assert.deepEqual(out.map((r) => [r.partition, r.key]), [[0, "pmo"], [1, "pmo"], [2, "pmo"]]);
  await d.close();
});

const PMO: Governance = {
  repo: "lz",
  path: "pmo.yaml",
  commit: null,
  present: true,
  ...parsePmo("required_labels: [owner]\nallowed_regions: [europe-west1]"),
  updated_at: "2024-05-01T00:00:00.000Z",
};
const evaluations = (d: TestDriver) =>
  d.forwarded("lz.compliance.evaluations.v1").map((r) => r.value as Evaluation | null);

Deno.test("policy: rules never run on data an asset lacks — not evaluated, not in the score, no violation", async () => {
  const d = createTestDriver(policyTopology({ scoreIntervalMs: 1000 }));
  await d.pipe("lz.compliance.governance.v1", "pmo", PMO);
  // A bucket known only from its RESOURCE line (no IAM_POLICY), in the allowed region.
  const bucket = asset("storage.googleapis.com/Bucket", "web-static", {
    labels: { owner: "web" },
    iamConfiguration: { uniformBucketLevelAccess: { enabled: true } },
  }, { location: "europe-west1" });
  await pipeAsset(d, "resource_created", bucket, "2024-05-01T01:00:00.000Z");
  // A subnet of an older export without resource.location (its data names the region).
  const subnet = asset("compute.googleapis.com/Subnetwork", "legacy-sn", {
    region: "https://www.googleapis.com/compute/v1/projects/p1/regions/asia-east1",
    enableFlowLogs: true,
  }, { location: null });
  await pipeAsset(d, "resource_created", subnet, "2024-05-01T01:00:00.000Z");
  // An instance with neither: its region cannot be told.
  const vm = asset(VM, "vm-x", { labels: { owner: "a" }, networkInterfaces: [] }, { location: null });
  await pipeAsset(d, "resource_created", vm, "2024-05-01T01:00:00.000Z");
  // A bucket whose resource part is missing (only its IAM policy is known; from an older state).
  const iamOnly = asset("storage.googleapis.com/Bucket", "iam-only", {}, {
    data: null,
    location: null,
    iam_policy: { bindings: [{ role: "roles/storage.admin", members: ["group:a@example.com"] }] },
  });
  await pipeAsset(d, "resource_created", iamOnly, "2024-05-01T01:00:00.000Z");
  const ev = new Map(evaluations(d).map((e) => [e!.asset_name, e!]));
  assert.deepEqual(ev.get(bucket.name)!.not_evaluated, ["cis-gcp-5.1-bucket-public"]);
  assert.ok(!ev.get(bucket.name)!.results.some((r) => r.rule_id === "cis-gcp-5.1-bucket-public"));
  assert.deepEqual(violations(d).map((v) => [v.rule_id, v.asset_name]), [
    ["pmo-allowed-regions", subnet.name],
  ], "the subnet's region comes from its data; nothing else fails");
  assert.deepEqual(ev.get(vm.name)!.not_evaluated, ["pmo-allowed-regions"]);
  assert.deepEqual(
    ev.get(iamOnly.name)!.results.map((r) => r.rule_id),
    ["cis-gcp-5.1-bucket-public"],
    "the IAM rule runs on the IAM part; resource rules do not run on an empty resource",
  );
  assert.ok(ev.get(iamOnly.name)!.not_evaluated!.includes("pmo-required-labels"));
  await d.advance(1000);
  const overall = (await scores(d)).get("overall")!;
  const counted = [...ev.values()].reduce((n, e) => n + e.evaluated, 0);
  assert.equal(overall.evaluated, counted, "not-evaluated results are not in the denominator");
  await d.close();
});

Deno.test("policy: a resource update that loses its location keeps an open violation open and turns a pass into not evaluated", async () => {
  const d = createTestDriver(policyTopology());
  await d.pipe("lz.compliance.governance.v1", "pmo", PMO);
  const far = asset(VM, "vm-far", { labels: { owner: "a" }, networkInterfaces: [] }, {
    location: "asia-east1-a",
  });
  const near = asset(VM, "vm-near", { labels: { owner: "a" }, networkInterfaces: [] }, {
    location: "europe-west1-b",
  });
  await pipeAsset(d, "resource_created", far, "2024-05-01T01:00:00.000Z");
  await pipeAsset(d, "resource_created", near, "2024-05-01T01:00:00.000Z");
  for (const a of [far, near]) {
    await pipeAsset(d, "resource_updated", { ...a, location: null }, "2024-05-01T02:00:00.000Z");
  }
  const region = violations(d).filter((v) => v.rule_id === "pmo-allowed-regions");
  assert.deepEqual(
    region.map((v) => [v.asset_name, v.state]),
    [[far.name, "open"]],
    "never resolved by missing data",
  );
  const last = new Map(evaluations(d).map((e) => [e!.asset_name, e!]));
  assert.deepEqual(last.get(near.name)!.not_evaluated, ["pmo-allowed-regions"]);
  assert.ok(!last.get(near.name)!.results.some((r) => r.rule_id === "pmo-allowed-regions"));
  await d.close();
});

Deno.test("policy: a failure with no failing result in the store takes first_seen from the violations table when its time is within the table's streak", async () => {
  const key = `cis-gcp-3.6-ssh-open|${sshOpen.name}`;
  const record = (first: string, resolvedAt: string | null) => ({
    key,
    value: {
      type: resolvedAt ? "policy_resolved" : "policy_violated",
      id: key,
      state: resolvedAt ? "resolved" : "open",
      rule_id: "cis-gcp-3.6-ssh-open",
      title: "t",
      severity: "high",
      benchmarks: [],
      asset_name: sshOpen.name,
      asset_type: FW,
      project: "p1",
      message: "m",
      source: "policy",
      first_seen: first,
      last_seen: first,
      resolved_at: resolvedAt,
      resolution: resolvedAt ? "fixed" : null,
    } satisfies Violation,
  });
  const ssh = (d: TestDriver) => violations(d).filter((v) => v.rule_id === "cis-gcp-3.6-ssh-open");

  // a rebuild: the table says the violation is open since 00:00, the compacted input starts at 03:00
  const d = createTestDriver(policyTopology(), {
    tables: { "lz.violations.v1": [record("2024-05-01T00:00:00.000Z", null)] },
  });
  await pipeAsset(d, "resource_created", sshOpen, "2024-05-01T03:00:00.000Z");
  assert.equal(ssh(d).at(-1)!.first_seen, "2024-05-01T00:00:00.000Z");
  // fixed, then failing again: a new streak, whatever the (older) table says
  await pipeAsset(d, "resource_updated", sshClosed, "2024-05-01T04:00:00.000Z");
  await pipeAsset(d, "resource_updated", sshOpen, "2024-05-01T05:00:00.000Z");
  assert.deepEqual(ssh(d).map((v) => [v.state, v.first_seen]), [
    ["open", "2024-05-01T00:00:00.000Z"],
    ["resolved", "2024-05-01T00:00:00.000Z"],
    ["open", "2024-05-01T05:00:00.000Z"],
  ]);
  await d.close();

  // a streak that was resolved at 01:00 does not reach a failure at 02:00; one open since 06:00 not one at 02:00
  for (
    const [first, resolved] of [["2024-05-01T00:00:00.000Z", "2024-05-01T01:00:00.000Z"], [
      "2024-05-01T06:00:00.000Z",
      null,
    ]]
  ) {
    const e = createTestDriver(policyTopology(), {
      tables: { "lz.violations.v1": [record(first!, resolved)] },
    });
    await pipeAsset(e, "resource_created", sshOpen, "2024-05-01T02:00:00.000Z");
    assert.equal(ssh(e).at(-1)!.first_seen, "2024-05-01T02:00:00.000Z");
    await e.close();
  }
});
