/**
 * Security probes against a real gateway over HTTP and WebSocket on 127.0.0.1 (issue 10): what a web page in
 * the user's browser or an attacker on the network would try. Probes that need a route's own stack live
 * beside it; {@link ISSUE_10_PROBES} says where each one runs, and the last test here fails when one of
 * them is renamed or removed.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../../pipeline/config.ts";
import type { GatewayPlugin } from "./plugin.ts";
import { openSse, rawHttp, startTestGateway } from "./testing.ts";

const plugin: GatewayPlugin = {
  name: "probe",
  eventTopics: ["gw.probe.events"],
  routes(app, ctx) {
    app.get("/api/v1/probe/file", ctx.requireScope("read"), (c) => c.json({ content: "secret plans" }));
    app.post("/api/v1/probe/trigger", ctx.requireScope("trigger"), (c) => c.json({ ok: true }, 202));
  },
};

const WS_HEADERS = {
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version": "13",
};

const json = (body: string) => body.trim().startsWith("{") ? JSON.parse(body) : null;

Deno.test("security: DNS rebinding — a Host the gateway does not answer to gets 403, IPs and loopback names pass", async () => {
  const t = await startTestGateway({
    plugins: [plugin],
    config: {
      gateway: {
        public_url: "https://sync.example.com",
        allowed_hosts: ["portal.internal", ".corp.example"],
        anonymous_reads: "always", // a published public_url closes loopback reads; this test is about Host
      },
    },
  });
  try {
    const port = new URL(t.url).port;
    const get = (host: string) => rawHttp(t.url, "GET", "/api/v1/probe/file", { Host: host });
    const evil = await get(`evil.example:${port}`);
    assert.equal(evil.status, 403, evil.body);
    assert.equal(json(evil.body).error, "host_not_allowed");
    assert.match(json(evil.body).reason, /gateway\.allowed_hosts/);
    assert.ok(!evil.body.includes("secret plans"));
    for (const host of ["evil.example", "127.0.0.1.nip.io", "localhost.evil.example", "corp.example.evil"]) {
      assert.equal((await get(host)).status, 403, host);
    }
    const ws = await rawHttp(t.url, "GET", "/ws/sync-events", {
      Host: `evil.example:${port}`,
      ...WS_HEADERS,
    });
    assert.equal(ws.status, 403, "no WebSocket for a rebound host");
    for (
      const host of [
        `127.0.0.1:${port}`,
        `localhost:${port}`,
        "LOCALHOST",
        "app.localhost",
        `[::1]:${port}`,
        "10.1.2.3:8080",
        "sync.example.com",
        "portal.internal:8080",
        "a.corp.example",
      ]
    ) {
      const r = await get(host);
      assert.equal(r.status, 200, `${host}: ${r.body}`);
      assert.equal(json(r.body).content, "secret plans");
    }
  } finally {
    await t.stop();
  }
});

Deno.test("security: a foreign Origin cannot open the WebSocket or SSE feed nor send a state-changing request", async () => {
  const env = { LZSYNC_TOKEN: "admin-Secret-0001" };
  const t = await startTestGateway({ plugins: [plugin], env });
  try {
    const host = new URL(t.url).host;
    const ws = await rawHttp(t.url, "GET", "/ws/sync-events?access_token=admin-Secret-0001", {
      Host: host,
      Origin: "http://evil.example",
      ...WS_HEADERS,
    });
    assert.equal(ws.status, 403, ws.body);
    assert.equal(json(ws.body).error, "origin_not_allowed");
    assert.match(json(ws.body).reason, /gateway\.allowed_origins/);
    const sameWs = await rawHttp(t.url, "GET", "/ws/sync-events?access_token=admin-Secret-0001", {
      Host: host,
      Origin: t.url,
      ...WS_HEADERS,
    });
    assert.equal(sameWs.status, 101, "same-origin WebSocket opens");
    const sse = await openSse(`${t.url}/api/v1/events?access_token=admin-Secret-0001`, {
      origin: "http://evil.example",
    });
    assert.equal(sse.status, 403);
    await sse.stop();
    const nullOrigin = await openSse(`${t.url}/api/v1/events`, { origin: "null" });
    assert.equal(nullOrigin.status, 403, "Origin: null (sandboxed frame, file://) is foreign");
    await nullOrigin.stop();
    // A state-changing request carrying a valid token (a page that stole nothing can still try a CSRF with
    // whatever a browser attaches): refused on the Origin alone.
    const post = await fetch(`${t.url}/api/v1/probe/trigger`, {
      method: "POST",
      headers: { origin: "http://evil.example", authorization: "Bearer admin-Secret-0001" },
    });
    assert.equal(post.status, 403);
    assert.equal((await post.json()).error, "origin_not_allowed");
    const same = await fetch(`${t.url}/api/v1/probe/trigger`, {
      method: "POST",
      headers: { origin: t.url, authorization: "Bearer admin-Secret-0001" },
    });
    assert.equal(same.status, 202, "same origin");
    await same.body?.cancel();
    const noOrigin = await fetch(`${t.url}/api/v1/probe/trigger`, {
      method: "POST",
      headers: { authorization: "Bearer admin-Secret-0001" },
    });
    assert.equal(noOrigin.status, 202, "no Origin: not a browser (curl, GitHub, a service)");
    await noOrigin.body?.cancel();
  } finally {
    await t.stop();
  }
});

Deno.test("security: CORS answers only the allow-listed origins, never `*`", async () => {
  const portal = "https://portal.example.com";
  const t = await startTestGateway({ plugins: [plugin], config: { gateway: { allowed_origins: [portal] } } });
  try {
    const pre = await fetch(`${t.url}/api/v1/probe/trigger`, {
      method: "OPTIONS",
      headers: {
        origin: portal,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    await pre.body?.cancel();
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), portal);
    assert.match(pre.headers.get("access-control-allow-headers") ?? "", /authorization/i);
    assert.match(pre.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.equal(pre.headers.get("access-control-allow-credentials"), null);
    const read = await fetch(`${t.url}/api/v1/probe/file`, { headers: { origin: portal } });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get("access-control-allow-origin"), portal);
    assert.match(read.headers.get("vary") ?? "", /origin/i);
    await read.body?.cancel();
    const sse = await openSse(`${t.url}/api/v1/events`, { origin: portal });
    assert.equal(sse.status, 200, "an allow-listed origin may open the feed");
    await sse.stop();
    const other = await fetch(`${t.url}/api/v1/probe/file`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    assert.equal(other.status, 403);
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    await other.body?.cancel();
  } finally {
    await t.stop();
  }
  assert.throws(() => resolveConfig({ gateway: { allowed_origins: ["*"] } }, {}), /allowed_origins/);
  assert.throws(
    () => resolveConfig({ gateway: { allowed_origins: ["https://a.example/path"] } }, {}),
    /allowed_origins/,
  );
});

Deno.test("security: gateway.anonymous_reads — never, loopback and always, on a real gateway", async () => {
  const read = (url: string, token?: string) =>
    fetch(`${url}/api/v1/probe/file`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const never = await startTestGateway({
    plugins: [plugin],
    config: { gateway: { anonymous_reads: "never" } },
  });
  try {
    const r = await read(never.url);
    assert.equal(r.status, 401, "never: loopback with no token configured still needs a token");
    assert.match((await r.json()).reason, /needs a token \(gateway.anonymous_reads: never\)/);
    const ws = await rawHttp(never.url, "GET", "/ws/sync-events", {
      Host: new URL(never.url).host,
      ...WS_HEADERS,
    });
    assert.equal(ws.status, 401, "never: no anonymous WebSocket");
  } finally {
    await never.stop();
  }
  const loopback = await startTestGateway({ plugins: [plugin] });
  try {
    assert.equal(
      (await read(loopback.url)).status,
      200,
      "loopback (default): open on 127.0.0.1 with no token",
    );
  } finally {
    await loopback.stop();
  }
  const loopbackToken = await startTestGateway({
    plugins: [plugin],
    env: { LZSYNC_TOKEN: "admin-Secret-0002" },
  });
  try {
    const r = await read(loopbackToken.url);
    assert.equal(r.status, 200, "loopback (default): a token for triggers keeps reads open to this machine");
    await r.body?.cancel();
    const trig = await fetch(`${loopbackToken.url}/api/v1/probe/trigger`, { method: "POST" });
    assert.equal(trig.status, 401, "the trigger needs the token");
    await trig.body?.cancel();
    const proxied = await fetch(`${loopbackToken.url}/api/v1/probe/file`, {
      headers: { "x-forwarded-for": "198.51.100.7" },
    });
    assert.equal(proxied.status, 401, "a read through a proxy may come from anywhere: it needs a token");
    await proxied.body?.cancel();
  } finally {
    await loopbackToken.stop();
  }
  const env = { LZSYNC_TOKEN: "admin-Secret-0001" };
  const always = await startTestGateway({
    plugins: [plugin],
    env,
    config: { gateway: { anonymous_reads: "always" } },
  });
  try {
    const r = await read(always.url);
    assert.equal(r.status, 200, "always: reads open even with tokens configured");
    await r.body?.cancel();
    const bad = await read(always.url, "guess");
    assert.equal(bad.status, 401, "a wrong token is still refused");
    await bad.body?.cancel();
    const trig = await fetch(`${always.url}/api/v1/probe/trigger`, { method: "POST" });
    assert.equal(trig.status, 401, "always opens reads only");
    await trig.body?.cancel();
  } finally {
    await always.stop();
  }
  // A non-loopback bind (not bound here: tests bind 127.0.0.1 only) follows the same rule.
  const { Auth } = await import("./auth.ts");
  const { silentLogger } = await import("../../pipeline/log.ts");
  const open = (mode: string, extra: Record<string, string> = {}) =>
    new Auth(resolveConfig({ gateway: { anonymous_reads: mode } }, extra), "0.0.0.0", silentLogger).openReads;
  assert.equal(open("always"), true);
  assert.equal(open("loopback"), false);
  assert.equal(open("never"), false);
});

/** Every issue-10 probe: the item, what is tried, and the test (file, exact name) that tries it. */
export const ISSUE_10_PROBES: { item: string; probe: string; file: string; test: string }[] = [
  {
    item: "1",
    probe: "Host: evil.example (DNS rebinding) → 403 host_not_allowed, no file content",
    file: "connectors/gateway/security_test.ts",
    test:
      "security: DNS rebinding — a Host the gateway does not answer to gets 403, IPs and loopback names pass",
  },
  {
    item: "1",
    probe: "foreign Origin on WebSocket, SSE, POST → 403 origin_not_allowed",
    file: "connectors/gateway/security_test.ts",
    test:
      "security: a foreign Origin cannot open the WebSocket or SSE feed nor send a state-changing request",
  },
  {
    item: "1",
    probe: "CORS for an allow-listed origin only, never `*`, no credentials",
    file: "connectors/gateway/security_test.ts",
    test: "security: CORS answers only the allow-listed origins, never `*`",
  },
  {
    item: "2",
    probe: "POST /api/v1/fabrics with credential_env: LZSYNC_TOKEN → 400 invalid_credential",
    file: "features/fabrics/credentials_integration_test.ts",
    test:
      "fabrics API: credential_env naming any variable is refused; only configured credentials, on their hosts",
  },
  {
    item: "3",
    probe: "repo http://alice:pw@host/x.git over the API → 400, never stored or shown",
    file: "features/fabrics/credentials_integration_test.ts",
    test: "fabrics API: a password inside a repo or Kubernetes URL is refused (400), never stored or shown",
  },
  {
    item: "3",
    probe: "a password inside a configured repo URL → refused at start with the field's path",
    file: "pipeline/config_test.ts",
    test: "resolveConfig() refuses a password inside a repo URL",
  },
  {
    item: "3",
    probe:
      "a registration stored the old way with a password in its URL → rewritten at start (topic, own clone's git config), fabric warns; never in REST, WS/SSE snapshot, resume from offset 0, logs",
    file: "features/fabrics/url_credentials_integration_test.ts",
    test: "a registration stored with a password in its URL is cleaned at start and never shown",
  },
  {
    item: "4",
    probe: "anonymous_reads never / loopback / always on a real gateway",
    file: "connectors/gateway/security_test.ts",
    test: "security: gateway.anonymous_reads — never, loopback and always, on a real gateway",
  },
  {
    item: "5",
    probe: "past the burst: 429 + Retry-After + JSON reason on every family; /healthz, /readyz never",
    file: "connectors/gateway/rate_limit_security_test.ts",
    test:
      "rate limits: past its burst a client gets 429 with Retry-After and a JSON reason, per family; probes never",
  },
  {
    item: "5",
    probe: "defaults: a Portal page load, 100 GitHub deliveries, 20 live connects from one address pass",
    file: "connectors/gateway/rate_limit_security_test.ts",
    test: "rate limits: the defaults let a Portal page load and a GitHub delivery burst through",
  },
  {
    item: "5",
    probe: "one token from six addresses → the token's bucket; another token unaffected",
    file: "connectors/gateway/rate_limit_security_test.ts",
    test: "rate limits: a token is limited across every address using it; another token is not",
  },
  {
    item: "5",
    probe: "spoofed X-Forwarded-For (direct, or left of the real hop behind a proxy) buys nothing",
    file: "connectors/gateway/rate_limit_security_test.ts",
    test:
      "trusted_proxies: X-Forwarded-For is ignored from a direct client (spoofing) and read behind a proxy",
  },
  {
    item: "5",
    probe: "allow_from.webhook with GitHub's hook ranges (IPv4, IPv6) → others 403 ip_not_allowed",
    file: "connectors/gateway/rate_limit_security_test.ts",
    test:
      "allow_from: only listed addresses (IPv4 and IPv6) reach a family; others get 403 with a JSON reason",
  },
  {
    item: "5",
    probe: "3,000 requests from distinct addresses → at most max_clients buckets",
    file: "connectors/gateway/rate_limit_security_test.ts",
    test: "rate limits: a flood of distinct client addresses keeps at most max_clients buckets",
  },
  {
    item: "5",
    probe: "400 manual triggers → a couple of git fetches, the rest answered with the queued sync_id",
    file: "features/git_sync/trigger_coalesce_test.ts",
    test: "manual triggers coalesce: 400 triggers, a handful of git fetches, every sync_id completes",
  },
  {
    item: "5",
    probe: "one client at 10× its limit: the others' p99 within 2× of quiet (alternating rounds)",
    file: "connectors/gateway/abuse_test.ts",
    test: "abuse: one client rate limited at 10× its limit, the others' p99 stays within 2× of quiet",
  },
  {
    item: "6",
    probe: "a delivery without X-Hub-Signature-256 → 401 before its body is read",
    file: "connectors/github/webhook_test.ts",
    test: "webhook: a delivery without a signature header is refused before its body is read",
  },
  {
    item: "6",
    probe: "more than max_inflight_bodies bodies at once → 503 + Retry-After, unread",
    file: "connectors/github/webhook_test.ts",
    test:
      "webhook: bodies beyond layers.webhook.max_inflight_bodies are answered 503 at once, unread; the slot frees when a body ends",
  },
  {
    item: "6",
    probe: "HMAC over a streamed multi-chunk body: wrong → 401, right → 202",
    file: "connectors/github/webhook_test.ts",
    test:
      "webhook: the HMAC is computed as the body streams in — a wrong signature over a multi-chunk body is 401, the right one 202",
  },
  {
    item: "7",
    probe: "an object body over gateway.max_object_bytes → 413 before any YAML is parsed",
    file: "features/fabrics/plugin_test.ts",
    test: "fabrics API: 404/400/409/422 with a JSON reason for every bad request",
  },
  {
    item: "7",
    probe: "/healthz within 100 ms (p99) during four 1 MiB worst-case YAML writes",
    file: "features/fabrics/body_pool_integration_test.ts",
    test: "/healthz answers within 100 ms (p99) while four 1 MiB worst-case YAML objects are written at once",
  },
  {
    item: "7",
    probe: "too many YAML nodes, too deep, too many aliases → 413",
    file: "features/fabrics/body_parse_test.ts",
    test: "parseBody() refuses too many nodes, too deep a nesting and too many aliases with 413",
  },
  {
    item: "7",
    probe: "bodies beyond the parser queue → 503 + Retry-After; a parse past parse_timeout → 413",
    file: "features/fabrics/body_pool_test.ts",
    test: "BodyPool parses in a worker, answers 503 beyond its queue and 413 past its timeout",
  },
  {
    item: "7",
    probe: "64,000 keys parse in linear time (the yaml package's own unique-key check: 50 s)",
    file: "features/fabrics/body_parse_test.ts",
    test: "parseBody() is linear in the number of keys (the yaml package's own unique-key check is not)",
  },
  {
    item: "8",
    probe: "form-encoded delivery (payload=) → 202; projects_v2_item → 202 ignored by name",
    file: "connectors/github/webhook_test.ts",
    test:
      "webhook: a form-encoded delivery (payload= field, signed over the raw body) is accepted like JSON; an unknown event is 202 ignored by name",
  },
  {
    item: "9",
    probe:
      "a token with fabrics: [dc1] writes and reads only dc1 (REST incl. the audit trail, WebSocket, SSE, resume); dc2 → 403",
    file: "features/fabrics/fabric_scope_test.ts",
    test: "a token restricted to fabric dc1 writes and reads only dc1 (REST, WebSocket, SSE)",
  },
  {
    item: "10",
    probe: "LZSYNC_LOG_LEVEL=verbose → a clear error naming the levels",
    file: "pipeline/config_test.ts",
    test: "resolveConfig() refuses an LZSYNC_LOG_LEVEL that is not a level",
  },
  {
    item: "10",
    probe: "/metrics needs the read scope",
    file: "connectors/gateway/auth_test.ts",
    test: "auth: scopes (read, trigger, write, admin implies all), 401/403 JSON, no secret anywhere",
  },
];

Deno.test("security: every issue-10 probe in ISSUE_10_PROBES runs where the index says", async () => {
  const root = new URL("../../", import.meta.url);
  const missing: string[] = [];
  for (const p of ISSUE_10_PROBES) {
    const text = await Deno.readTextFile(new URL(p.file, root)).catch(() => "");
    if (
      !text.includes(`Deno.test(${JSON.stringify(p.test)}`) &&
      !text.includes(`Deno.test(\n  ${JSON.stringify(p.test)}`)
    ) {
      missing.push(`item ${p.item}: ${p.file}: ${p.test}`);
    }
  }
  assert.deepEqual(missing, [], "a probe of issue 10 was renamed or removed; update ISSUE_10_PROBES");
  const items = new Set(ISSUE_10_PROBES.map((p) => p.item));
  for (const item of ["1", "2", "3", "4", "5", "6", "7", "8", "10"]) {
    assert.ok(items.has(item), `item ${item}`);
  }
});
