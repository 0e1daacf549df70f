import assert from "node:assert/strict";
import type { Governance } from "../../schemas/compliance.ts";
import { ValidationError } from "../../pipeline/errors.ts";
import {
  excepted,
  governanceRules,
  parsePmo,
  regionOf,
  RULE_ALLOWED_REGIONS,
  RULE_REQUIRED_LABELS,
} from "./governance.ts";
import { asset } from "./test_assets.ts";

const SAMPLE = await Deno.readTextFile(new URL("../../deploy/sample-lz/pmo.yaml", import.meta.url));

function gov(text: string): Governance {
  return {
    repo: "lz",
    path: "pmo.yaml",
    commit: null,
    present: true,
    ...parsePmo(text),
    updated_at: "2024-05-01T00:00:00.000Z",
  };
}

Deno.test("parsePmo() reads the sample Landing Zone's pmo.yaml", () => {
  const g = parsePmo(SAMPLE);
  assert.ok(g.required_labels.some((l) => l.key === "cost-center" && l.pattern === "^cc-[0-9]{4}$"));
  assert.ok(g.required_labels.some((l) => l.key === "environment" && l.allowed?.includes("prod")));
  assert.ok(g.allowed_regions.includes("europe-west1"));
});

Deno.test("parsePmo() names the bad field of an invalid pmo.yaml", () => {
  assert.throws(
    () => parsePmo("required_labels: [{key: a, pattern: '(['}]"),
    (e) => e instanceof ValidationError && e.issues[0].path === "/required_labels/0/pattern",
  );
  assert.throws(
    () => parsePmo("allowed_regions: europe"),
    (e) => e instanceof ValidationError && e.issues[0].path === "/allowed_regions",
  );
  assert.throws(() => parsePmo("a: [unclosed"), /not valid YAML/);
  assert.deepEqual(parsePmo("").required_labels, []);
});

Deno.test("governance rule pmo-required-labels: passes with valid labels, fails naming missing and invalid ones", () => {
  const [labels] = governanceRules(
    gov(
      "required_labels: [{key: env, allowed: [dev, prod]}, {key: cost-center, pattern: '^cc-[0-9]{4}$'}, owner]",
    ),
  );
  assert.equal(labels.id, RULE_REQUIRED_LABELS);
  const ok = asset("compute.googleapis.com/Instance", "vm", {
    labels: { env: "prod", "cost-center": "cc-1234", owner: "ana" },
  });
  assert.equal(labels.evaluate(ok)?.passed, true);
  const bad = asset("storage.googleapis.com/Bucket", "b", { labels: { env: "test", "cost-center": "1234" } });
  const f = labels.evaluate(bad)!;
  assert.equal(f.passed, false);
  assert.match(f.message, /env=test not one of dev\|prod/);
  assert.match(f.message, /cost-center=1234 does not match/);
  assert.match(f.message, /owner missing/);
  const sql = asset("sqladmin.googleapis.com/Instance", "db", {
    settings: { userLabels: { env: "dev", "cost-center": "cc-0001", owner: "x" } },
  });
  assert.equal(labels.evaluate(sql)?.passed, true);
  assert.equal(
    labels.evaluate(asset("compute.googleapis.com/Firewall", "fw", {})),
    null,
    "firewalls have no labels",
  );
});

Deno.test("governance rule pmo-allowed-regions: zones map to regions, prefixes allowed, global exempt", () => {
  const [regions] = governanceRules(gov("allowed_regions: [europe-west1, us-*]"));
  assert.equal(regions.id, RULE_ALLOWED_REGIONS);
  assert.equal(
    regions.evaluate(asset("compute.googleapis.com/Instance", "a", {}, { location: "europe-west1-b" }))
      ?.passed,
    true,
  );
  assert.equal(
    regions.evaluate(asset("compute.googleapis.com/Instance", "b", {}, { location: "us-east4-a" }))?.passed,
    true,
  );
  const f = regions.evaluate(asset("sqladmin.googleapis.com/Instance", "c", {}, { location: "asia-east1" }))!;
  assert.equal(f.passed, false);
  assert.match(f.message, /asia-east1/);
  assert.equal(
    regions.evaluate(asset("storage.googleapis.com/Bucket", "d", {}, { location: "global" })),
    null,
  );
  assert.equal(regionOf("EU"), "eu");
});

Deno.test("excepted() matches rule and resource exactly or by prefix", () => {
  const g = gov(
    "exceptions: [{rule: pmo-allowed-regions, resource: '//storage.googleapis.com/legacy-*', reason: migrating}]",
  );
  assert.equal(excepted(g, RULE_ALLOWED_REGIONS, "//storage.googleapis.com/legacy-logs"), true);
  assert.equal(excepted(g, RULE_REQUIRED_LABELS, "//storage.googleapis.com/legacy-logs"), false);
  assert.equal(excepted(g, RULE_ALLOWED_REGIONS, "//storage.googleapis.com/new"), false);
  assert.deepEqual(governanceRules({ ...g, present: false }), []);
});
