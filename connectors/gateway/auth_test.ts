import assert from "node:assert/strict";
import { Hono } from "hono";
import { resolveConfig } from "../../pipeline/config.ts";
import { createLogger, silentLogger } from "../../pipeline/log.ts";
import { Auth, isLoopback } from "./auth.ts";
import type { GatewayPlugin } from "./plugin.ts";
import { LiveClient, openSse, startTestGateway } from "./testing.ts";

const plugin: GatewayPlugin = {
  name: "authz",
  eventTopics: ["gw.auth.events"],
  routes(app, ctx) {
    app.get("/api/v1/test/read", ctx.requireScope("read"), (c) => c.json({ ok: "read" }));
    app.post("/api/v1/test/trigger", ctx.requireScope("trigger"), (c) => c.json({ ok: "trigger" }));
    app.put("/api/v1/test/write", ctx.requireScope("write"), (c) => c.json({ ok: "write" }));
  },
};

const SECRETS = { LZSYNC_TOKEN: "admin-Secret-0001", READER: "reader-Secret-0002", OPS: "ops-Secret-0003" };
const tokens = [
  { name: "reader", token_env: "READER", scopes: ["read"] },
  { name: "ops", token_env: "OPS", scopes: ["read", "trigger"] },
  { name: "unset", token_env: "NOT_SET_ANYWHERE", scopes: ["admin"] },
];

const call = async (url: string, init: RequestInit & { token?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    body: text.startsWith("{") ? JSON.parse(text) : null,
  };
};

Deno.test("auth: with no token configured on loopback, reads are open and triggers are refused", async () => {
  const t = await startTestGateway({ plugins: [plugin] });
  try {
    assert.equal((await call(`${t.url}/api/v1/test/read`)).status, 200);
    assert.equal((await call(`${t.url}/metrics`)).status, 200);
    const r = await call(`${t.url}/api/v1/test/trigger`, { method: "POST" });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, "unauthorized");
    assert.match(r.body.reason, /none is configured: start lzsync with LZSYNC_TOKEN=/);
    const c = await LiveClient.open(t.wsUrl);
    await c.close();
  } finally {
    await t.stop();
  }
});

Deno.test("auth: scopes (read, trigger, write, admin implies all), 401/403 JSON, no secret anywhere", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", sink: (l) => lines.push(l) });
  const t = await startTestGateway({
    plugins: [plugin],
    env: SECRETS,
    config: { gateway: { tokens, anonymous_reads: "never" } },
    log,
  });
  try {
    const read = `${t.url}/api/v1/test/read`, trigger = `${t.url}/api/v1/test/trigger`;
    const write = `${t.url}/api/v1/test/write`;
    const none = await call(read);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="lzsync"');
    assert.deepEqual(none.body, {
      error: "unauthorized",
      reason: 'a bearer token with the "read" scope is required (Authorization: Bearer <token>)',
    });
    assert.deepEqual((await call(read, { token: "guess" })).body, {
      error: "unauthorized",
      reason: "unknown token",
    });
    assert.equal((await call(read, { headers: { authorization: "Basic abc" } })).status, 401);
    assert.equal((await call(read, { token: SECRETS.READER })).status, 200);
    const forbidden = await call(trigger, { method: "POST", token: SECRETS.READER });
    assert.equal(forbidden.status, 403);
    assert.deepEqual(forbidden.body, {
      error: "forbidden",
      reason: 'token "reader" lacks the "trigger" scope',
    });
    assert.equal((await call(trigger, { method: "POST", token: SECRETS.OPS })).status, 200);
    assert.equal((await call(write, { method: "PUT", token: SECRETS.OPS })).status, 403);
    for (const url of [read, trigger, write]) {
      const method = url === read ? "GET" : url === trigger ? "POST" : "PUT";
      assert.equal(
        (await call(url, { method, token: SECRETS.LZSYNC_TOKEN })).status,
        200,
        `admin on ${method}`,
      );
    }
    // A configured token whose env var is unset is disabled (and the empty token cannot match it).
    assert.ok(lines.some((l) => l.includes("gateway token disabled") && l.includes("NOT_SET_ANYWHERE")));
    // Query tokens: only for the live endpoints (WebSocket/EventSource cannot send headers).
    assert.equal((await call(`${read}?access_token=${SECRETS.READER}`)).status, 401);
    const ws = await LiveClient.open(t.wsUrl, { access_token: SECRETS.READER });
    await ws.waitFor((f) => f.type === "snapshot-end");
    await ws.close();
    const wsDenied = await call(t.wsUrl.replace(/^ws/, "http"), { headers: { upgrade: "websocket" } });
    assert.equal(wsDenied.status, 401);
    const sse = await openSse(`${t.url}/api/v1/events?access_token=${SECRETS.OPS}`);
    assert.equal(sse.status, 200);
    await sse.stop();
    assert.equal((await call(`${t.url}/healthz`)).status, 200, "health needs no token");
    const metrics = await call(`${t.url}/metrics`, { token: SECRETS.READER });
    assert.equal(metrics.status, 200);
    for (const secret of Object.values(SECRETS)) {
      assert.ok(!metrics.text.includes(secret), "no token in metrics");
      assert.ok(!lines.some((l) => l.includes(secret)), "no token in logs");
    }
  } finally {
    await t.stop();
  }
});

Deno.test("auth: not bound to loopback and no token means no open reads", async () => {
  const runtime = resolveConfig({}, {});
  const auth = new Auth(runtime, "0.0.0.0", silentLogger);
  assert.equal(auth.openReads, false);
  const app = new Hono();
  app.get("/x", auth.require("read"), (c) => c.json({ ok: true }));
  const res = await app.request("/x");
  assert.equal(res.status, 401);
  assert.match((await res.json()).reason, /not bound to loopback/);
  assert.equal(new Auth(runtime, "127.0.0.1", silentLogger).openReads, true);
});

Deno.test("auth: loopback (default) keeps reads open on loopback when a token is set for triggers, not for proxied or published gateways", async () => {
  const withToken = new Auth(resolveConfig({}, { LZSYNC_TOKEN: "admin-x" }), "127.0.0.1", silentLogger);
  assert.equal(withToken.openReads, true, "a token for triggers does not close the page");
  const app = new Hono();
  app.get("/r", withToken.require("read"), (c) => c.json({ ok: true }));
  app.post("/w", withToken.require("trigger"), (c) => c.json({ ok: true }));
  assert.equal((await app.request("/r")).status, 200);
  assert.equal((await app.request("/w", { method: "POST" })).status, 401, "writes still need the token");
  const proxies: Record<string, string>[] = [{ "x-forwarded-for": "203.0.113.9" }, {
    forwarded: "for=203.0.113.9",
  }];
  for (const h of proxies) {
    const r = await app.request("/r", { headers: h });
    assert.equal(r.status, 401, `a proxied read needs a token: ${JSON.stringify(h)}`);
    assert.match((await r.json()).reason, /came through a proxy/);
    assert.equal(
      (await app.request("/r", { headers: { ...h, authorization: "Bearer admin-x" } })).status,
      200,
    );
  }
  const published = (url: string) =>
    new Auth(resolveConfig({ gateway: { public_url: url } }, {}), "127.0.0.1", silentLogger).openReads;
  assert.equal(published("https://portal-sync.example.com"), false, "published under another host");
  assert.equal(published("http://127.0.0.1:8088"), true, "a loopback public_url publishes nothing");
});

Deno.test("isLoopback() accepts only loopback addresses", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) assert.ok(isLoopback(h), h);
  for (const h of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "example.com", "127.0.0.1.nip.io"]) {
    assert.ok(!isLoopback(h), h);
  }
});

Deno.test("auth: on loopback with no token, a trigger's 401 says to set LZSYNC_TOKEN, not 'not bound to loopback'", async () => {
  const auth = new Auth(resolveConfig({}, {}), "127.0.0.1", silentLogger);
  const app = new Hono();
  app.post("/trigger", auth.require("trigger"), (c) => c.json({ ok: true }));
  const res = await app.request("/trigger", { method: "POST" });
  assert.equal(res.status, 401);
  const { reason } = await res.json();
  assert.doesNotMatch(reason, /not bound to loopback/);
  assert.match(
    reason,
    /needs a token with the "trigger" scope and none is configured: start lzsync with LZSYNC_TOKEN=/,
  );
});
