/** The fabrics API's defined answers to bad requests, on the first-run sample fabric (a local git repo). */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { startTestGateway } from "../../connectors/gateway/testing.ts";
import { buildFabricServices } from "./service.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";

Deno.test("fabrics API: 404/400/409/422 with a JSON reason for every bad request", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-api-" });
  const broker = await createEmbeddedBroker();
  const config = { data_dir: dataDir };
  const env = { LZSYNC_TOKEN: "adm" };
  const deps = testDeps(broker, config, env);
  const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
  for (const s of fgd.services) await s.start();
  const gw = await startTestGateway({ plugins: [fgd.plugin], broker, config, env });
  const call = async (method: string, path: string, body?: string, type = "application/json") => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: "Bearer adm", "content-type": type },
      body,
    });
    return { status: res.status, body: await res.json() };
  };
  try {
    await fgd.manager.workers.get("dc1")!.trigger("test").done;
    const cases: [string, string, string | undefined, number, RegExp][] = [
      ["GET", "/api/v1/fabrics/nope", undefined, 404, /not registered/],
      ["GET", "/api/v1/fabrics/nope/objects", undefined, 404, /not registered/],
      ["GET", "/api/v1/fabrics/dc1/objects?state=bogus", undefined, 400, /use draft, conflict or drift/],
      [
        "GET",
        "/api/v1/fabrics/dc1/objects?stat=draft",
        undefined,
        400,
        /unknown query parameter stat; .* takes kind, state/,
      ],
      ["GET", "/api/v1/fabrics?limit=5", undefined, 400, /unknown query parameter limit; .* takes none/],
      ["GET", "/api/v1/fabrics/dc1/objects/vpcs/vpc-1?ns=x", undefined, 400, /takes namespace$/],
      ["GET", "/api/v1/fabrics/dc1/unmanaged?path=raw", undefined, 400, /unknown query parameter path/],
      ["GET", "/api/v1/fabrics/dc1/objects/vpcs/nope", undefined, 404, /not in fabric dc1/],
      ["DELETE", "/api/v1/fabrics/dc1", undefined, 409, /comes from the sample/],
      ["POST", "/api/v1/fabrics", JSON.stringify({ id: "dc1", path: "x" }), 409, /already registered/],
      ["POST", "/api/v1/fabrics", JSON.stringify({ id: "x" }), 422, /path/],
      ["POST", "/api/v1/fabrics/nope/sync", undefined, 404, /not registered/],
      [
        "PUT",
        "/api/v1/fabrics/dc1/objects/gadgets/g1",
        "{}",
        404,
        /no CRD of fabric dc1 defines "gadgets"; use one of .*vpcs/,
      ],
      ["PUT", "/api/v1/fabrics/dc1/objects/vpcs/vpc-db", "[1, 2]", 400, /one Kubernetes object/],
      ["PUT", "/api/v1/fabrics/dc1/objects/vpcs/vpc-db", '{"kind": "Switch"}', 400, /must be VPC vpc-db/],
      ["PUT", "/api/v1/fabrics/dc1/objects/vpcs/vpc-db", "{nope", 400, /not valid JSON or YAML/],
      ["DELETE", "/api/v1/fabrics/dc1/objects/vpcs/nope", undefined, 404, /not in fabric dc1/],
      ["DELETE", "/api/v1/fabrics/dc1/drafts/vpcs/vpc-db", undefined, 404, /has no draft/],
    ];
    for (const [method, path, body, status, reason] of cases) {
      const r = await call(method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.match(String(r.body.reason), reason, `${method} ${path}`);
    }
    const yaml =
      "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-db\nspec:\n  subnets: {}\n";
    const invalid = await call("PUT", "/api/v1/fabrics/dc1/objects/vpc/vpc-db", yaml, "application/yaml");
    assert.equal(invalid.status, 422);
    assert.deepEqual(invalid.body.findings.map((f: { rule: string }) => f.rule), ["hedgehog.vpc.subnets"]);
    // Object bodies are capped (gateway.max_object_bytes, 1 MiB) before any YAML is parsed.
    const huge = yaml + `# ${"x".repeat(1024 * 1024)}\n`;
    const big = await call("PUT", "/api/v1/fabrics/dc1/objects/vpcs/vpc-db", huge, "application/yaml");
    assert.equal(big.status, 413, JSON.stringify(big.body));
    assert.match(big.body.reason, /at most 1048576 bytes \(gateway\.max_object_bytes\)/);
    const unauth = await fetch(`${gw.url}/api/v1/fabrics/dc1/sync`, { method: "POST" });
    assert.equal(unauth.status, 401);
    await unauth.body?.cancel();
  } finally {
    await gw.stop();
    for (const s of fgd.services) await s.stop();
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
