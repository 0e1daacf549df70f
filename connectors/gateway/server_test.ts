import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import type { Batch, Broker, ReaderOptions } from "../../pipeline/broker/types.ts";
import { ValidationError } from "../../pipeline/errors.ts";
import { createLogger } from "../../pipeline/log.ts";
import { resolveConfig } from "../../pipeline/config.ts";
import { Registry } from "prom-client";
import { createGateway } from "./mod.ts";
import type { GatewayPlugin } from "./plugin.ts";
import { startTestGateway } from "./testing.ts";

const plugin: GatewayPlugin = {
  name: "srv",
  compactedTopics: ["gw.srv.state"],
  statusSections: [{ id: "things", title: "Things", source: "/api/v1/test/things", render: "table" }],
  routes(app, ctx) {
    app.post(
      "/api/v1/test/echo",
      ctx.requireScope("read"),
      async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }),
    );
    app.get("/api/v1/test/boom", ctx.requireScope("read"), () => {
      throw new Error("kaboom at /secret/internal/path");
    });
    app.get("/api/v1/test/invalid", ctx.requireScope("read"), () => {
      throw new ValidationError("field x is bad", [{ path: "/x", message: "expected a number" }]);
    });
    app.get("/api/v1/test/item/:id", ctx.requireScope("read"), (c) => c.json({ id: c.req.param("id") }));
    app.get(
      "/api/v1/test/things",
      ctx.requireScope("read"),
      (c) => c.json([...ctx.view("gw.srv.state").values()]),
    );
  },
};

Deno.test("http: JSON 404, 405 (with Allow), 413 (length and chunked), 400 and 500 without internals", async () => {
  const lines: string[] = [];
  const t = await startTestGateway({
    plugins: [plugin],
    config: { gateway: { max_body_bytes: 2048 } },
    log: createLogger({ level: "error", sink: (l) => lines.push(l) }),
  });
  try {
    const nf = await fetch(`${t.url}/nope`);
    assert.equal(nf.status, 404);
    assert.deepEqual(await nf.json(), { error: "not_found", reason: "no route for GET /nope" });
    const na = await fetch(`${t.url}/healthz`, { method: "POST" });
    assert.equal(na.status, 405);
    assert.match(na.headers.get("allow")!, /GET/);
    assert.equal((await na.json()).error, "method_not_allowed");

    const ok = await fetch(`${t.url}/api/v1/test/echo`, { method: "POST", body: "x".repeat(2000) });
    assert.deepEqual(await ok.json(), { bytes: 2000 });
    const big = await fetch(`${t.url}/api/v1/test/echo`, { method: "POST", body: "x".repeat(5000) });
    assert.equal(big.status, 413);
    assert.deepEqual(await big.json(), {
      error: "payload_too_large",
      reason: "request body exceeds 2048 bytes (gateway.max_body_bytes)",
    });
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode("y".repeat(1000)));
        c.close();
      },
    });
    const chunked = await fetch(`${t.url}/api/v1/test/echo`, { method: "POST", body: chunks });
    assert.equal(chunked.status, 413, "a chunked body without Content-Length is counted too");
    await chunked.body?.cancel();

    const boom = await fetch(`${t.url}/api/v1/test/boom`);
    assert.equal(boom.status, 500);
    const body = await boom.json();
    assert.equal(body.error, "internal");
    assert.match(body.reason, /^internal error \(id [0-9a-f-]+\); see the gateway log$/);
    assert.ok(lines.some((l) => l.includes("kaboom") && l.includes(body.reason.match(/id ([0-9a-f-]+)/)[1])));

    const invalid = await fetch(`${t.url}/api/v1/test/invalid`);
    assert.equal(invalid.status, 400);
    assert.deepEqual(await invalid.json(), {
      error: "bad_request",
      reason: "field x is bad",
      issues: [{ path: "/x", message: "expected a number" }],
    });

    await (await fetch(`${t.url}/api/v1/test/item/42`)).body?.cancel();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(
      metrics,
      /lzsync_http_requests_total\{route="\/api\/v1\/test\/item\/:id",method="GET",status="200"\} 1/,
    );
    assert.match(metrics, /lzsync_http_requests_total\{route="unmatched",method="GET",status="404"\} 1/);
    assert.match(
      metrics,
      /lzsync_http_request_seconds_bucket\{le="0.005",route="\/healthz",method="POST"\}|lzsync_http_request_seconds_count/,
    );
    assert.ok(!metrics.includes("/nope"), "raw paths never become labels");
  } finally {
    await t.stop();
  }
});

Deno.test("http: status page, static files, and /api/v1/gateway list topics and plugin sections", async () => {
  const t = await startTestGateway({ plugins: [plugin] });
  try {
    await t.produce("gw.srv.state", "a", { name: "a" });
    const page = await fetch(`${t.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /text\/html/);
    assert.match(page.headers.get("content-security-policy")!, /default-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/static\/app.js">/);
    for (const f of ["app.js", "sections.js", "style.css"]) {
      const r = await fetch(`${t.url}/static/${f}`);
      assert.equal(r.status, 200, f);
      await r.body?.cancel();
    }
    const missing = await fetch(`${t.url}/static/../mod.ts`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const info = await (await fetch(`${t.url}/api/v1/gateway`)).json();
    assert.deepEqual(info.topics, [{ name: "gw.srv.state", kind: "compacted" }]);
    assert.deepEqual(info.sections.map((s: { id: string }) => s.id), ["things"]);
    assert.equal(info.ready, true);
  } finally {
    await t.stop();
  }
});

/** The real embedded broker, with view reads held back until `open()` (to observe readiness). */
function gated(inner: Broker): Broker & { open(): void } {
  const gate = Promise.withResolvers<void>();
  return {
    kind: inner.kind,
    address: inner.address,
    admin: () => inner.admin(),
    producer: () => inner.producer(),
    consumer: (o) => inner.consumer(o),
    reader: (o: ReaderOptions) => {
      const r = inner.reader(o);
      return {
        run: (each: (b: Batch) => Promise<void>) =>
          r.run(async (b) => {
            await gate.promise;
            await each(b);
          }),
        stop: () => r.stop(),
      };
    },
    close: () => inner.close(),
    open: () => gate.resolve(),
  };
}

Deno.test("http: /readyz is 503 until every view caught up with the offsets seen at start", async () => {
  const inner = await createEmbeddedBroker();
  await inner.admin().createTopics([{ name: "gw.srv.state", partitions: 2, compacted: true }]);
  const p = await inner.producer();
  await p.send(
    "gw.srv.state",
    Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: new TextEncoder().encode("{}") })),
  );
  await p.close();
  const broker = gated(inner);
  const runtime = resolveConfig({ gateway: { port: 0 } }, {});
  const gw = createGateway({
    runtime,
    broker,
    log: createLogger({ level: "silent" }),
    metrics: new Registry(),
    clock: { now: Date.now },
  }, [plugin]);
  await gw.start();
  try {
    const before = await fetch(`${gw.url}/readyz`);
    assert.equal(before.status, 503);
    const detail = (await before.json()).detail;
    assert.deepEqual(detail.lagging.map((l: { topic: string }) => l.topic), ["gw.srv.state", "gw.srv.state"]);
    assert.equal(gw.ready(), false);
    broker.open();
    const end = Date.now() + 5_000;
    while (!gw.ready() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    const after = await fetch(`${gw.url}/readyz`);
    assert.equal(after.status, 200);
    assert.equal((await after.json()).status, "ready");
    assert.equal(gw.hub.kind("gw.srv.state"), "compacted");
  } finally {
    await gw.stop();
    await inner.close();
  }
});

Deno.test("createGateway() refuses conflicting plugins", () => {
  const runtime = resolveConfig({}, {});
  const deps = {
    runtime,
    broker: null as unknown as Broker,
    log: createLogger({ level: "silent" }),
    metrics: new Registry(),
    clock: { now: Date.now },
  };
  assert.throws(
    () => createGateway(deps, [{ name: "a", compactedTopics: ["t"] }, { name: "b", eventTopics: ["t"] }]),
    /declared both compacted and event/,
  );
  assert.throws(() => createGateway(deps, [{ name: "a" }, { name: "a" }]), /two gateway plugins are named a/);
});
