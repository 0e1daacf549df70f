import assert from "node:assert/strict";
import { KubeSource } from "./kube_source.ts";
import { startKubeTestServer } from "./_kube_test_server.ts";

const VPC = { group: "vpc.githedgehog.com", version: "v1beta1", kind: "VPC", plural: "vpcs" };

Deno.test("KubeSource lists every page of a kind with a bearer token and fills apiVersion/kind", async () => {
  const k8s = startKubeTestServer("t0k3n");
  try {
    k8s.objects.set(
      "vpc.githedgehog.com/vpcs",
      Array.from({ length: 5 }, (_, i) => ({
        apiVersion: "vpc.githedgehog.com/v1beta1",
        kind: "VPC",
        metadata: { name: `vpc-${i}`, namespace: "default" },
        spec: {},
      })),
    );
    const src = new KubeSource({ apiUrl: k8s.url, token: "t0k3n", pageSize: 2 });
    const items = await src.list(VPC);
    assert.deepEqual(items.map((o) => o.metadata.name), ["vpc-0", "vpc-1", "vpc-2", "vpc-3", "vpc-4"]);
    assert.equal(items[0].apiVersion, "vpc.githedgehog.com/v1beta1");
    assert.equal(items[0].kind, "VPC");
    assert.equal(k8s.requests, 3, "three pages");
    assert.deepEqual(
      await src.list({ ...VPC, plural: "gateways", kind: "Gateway" }),
      [],
      "404: CRD not installed",
    );
  } finally {
    await k8s.stop();
  }
});

Deno.test("KubeSource explains a rejected token and an unreachable server without leaking the token", async () => {
  const k8s = startKubeTestServer("right");
  try {
    await assert.rejects(new KubeSource({ apiUrl: k8s.url, token: "wrong" }).list(VPC), (err: Error) => {
      assert.match(err.message, /HTTP 401.*kubernetes\.token_env/);
      assert.ok(!err.message.includes("wrong"));
      return true;
    });
  } finally {
    await k8s.stop();
  }
  await assert.rejects(
    new KubeSource({ apiUrl: k8s.url, timeoutMs: 2000 }).list(VPC),
    /cannot reach the Kubernetes API/,
  );
});
