/**
 * Switch defaulting of githedgehog/fabric v0.126.0 (`Switch.Default`): `SPEED_` prefixes of port speeds are
 * cut in place (so `managed/` spells the stored value), the redundancy group joins `groups`, an empty
 * `vlanNamespaces` becomes `[default]`, and link-flap error-disable gets its three values.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { defaultHedgehog } from "./default_hedgehog.ts";
import type { KubeObject } from "./object.ts";

const SWITCH = `
apiVersion: wiring.githedgehog.com/v1beta1
kind: Switch
metadata: { name: leaf-01 }
spec:
  role: server-leaf
  profile: dell-s5248f-on
  asn: 65101
  ip: 172.30.0.3/21
  protocolIP: 172.30.8.2/32
  vtepIP: 172.30.12.1/32
  vlanNamespaces: []
  redundancy: { group: mclag-1, type: mclag }
  groups: [rack-1]
  portSpeeds: { E1/1: SPEED_10G, E1/2: 25G }
  portGroupSpeeds: { "2": SPEED_10G }
  linkFlapErrDisable: { flapThreshold: 5 }
`;

Deno.test("defaultHedgehog applies Switch.Default: speeds without SPEED_, groups, VLAN namespaces, link-flap values", () => {
  const sw = parse(SWITCH) as KubeObject;
  const before = structuredClone(sw);
  const d = defaultHedgehog(sw);
  assert.deepEqual(sw, before, "the input is not mutated");
  // deno-lint-ignore no-explicit-any
  const spec = d.object.spec as any;
  assert.deepEqual(spec.portSpeeds, { "E1/1": "10G", "E1/2": "25G" });
  assert.deepEqual(spec.portGroupSpeeds, { "2": "10G" });
  assert.deepEqual(spec.vlanNamespaces, ["default"]);
  assert.deepEqual(spec.groups, ["mclag-1", "rack-1"]);
  assert.deepEqual(spec.linkFlapErrDisable, {
    flapThreshold: 5,
    samplingInterval: 30,
    recoveryInterval: 300,
  });
  // The rewritten speeds are spelled out for managed/; values the cluster only fills in are not.
  // deno-lint-ignore no-explicit-any
  const written = d.written.spec as any;
  assert.deepEqual(written.portSpeeds, { "E1/1": "10G", "E1/2": "25G" });
  assert.deepEqual(written.portGroupSpeeds, { "2": "10G" });
  assert.deepEqual(written.groups, ["rack-1"]);
  assert.deepEqual(written.vlanNamespaces, []);
  assert.deepEqual(written.linkFlapErrDisable, { flapThreshold: 5 });
  assert.deepEqual(
    d.changed.sort(),
    [
      "spec.portGroupSpeeds.2",
      'spec.portSpeeds["E1/1"]',
      "spec.groups",
      "spec.linkFlapErrDisable",
      "spec.vlanNamespaces",
    ].sort(),
  );
  assert.deepEqual(defaultHedgehog(d.object).object, d.object, "idempotent");
});

Deno.test("defaultHedgehog leaves a Switch without shorthand as written (same object for managed/)", () => {
  const sw = parse(
    SWITCH.replace("SPEED_10G, E1/2", "10G, E1/2").replace('"2": SPEED_10G', '"2": 10G'),
  ) as KubeObject;
  assert.equal(defaultHedgehog(sw).written, sw);
});
