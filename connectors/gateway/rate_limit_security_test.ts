/**
 * Issue 10, item 5 against a real gateway on 127.0.0.1: rate limits per client IP and per token on every
 * route family (429 + Retry-After + JSON reason), `gateway.trusted_proxies` for X-Forwarded-For (spoofing
 * refused), `gateway.allow_from` per family (IPv4 and IPv6), bounded bucket memory under a flood of
 * addresses. The other issue-10 probes are in `security_test.ts`; the abuse test in `abuse_test.ts`.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../../pipeline/config.ts";
import type { GatewayPlugin } from "./plugin.ts";
import { rawHttp, startTestGateway } from "./testing.ts";

const plugin: GatewayPlugin = {
  name: "probe",
  routes(app, ctx) {
    app.get("/api/v1/probe/file", ctx.requireScope("read"), (c) => c.json({ content: "plans" }));
    app.post("/api/v1/probe/trigger", ctx.requireScope("trigger"), (c) => c.json({ ok: true }, 202));
    app.put("/api/v1/probe/object", ctx.requireScope("write"), (c) => c.json({ ok: true }));
    app.post("/webhooks/probe", (c) => c.json({ ok: true }, 202));
  },
};

const WS_HEADERS = {
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version": "13",
};

/** Sends `n` requests (one after the other, or `parallel` at a time) and returns their statuses. */
async function statuses(n: number, send: (i: number) => Promise<Response>, parallel = 1): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, n - i) }, async (_, j) => {
        const r = await send(i + j);
        await r.body?.cancel();
        return r.status;
      }),
    );
    out.push(...batch);
  }
  return out;
}

const count = (xs: number[], s: number) => xs.filter((x) => x === s).length;

Deno.test("rate limits: past its burst a client gets 429 with Retry-After and a JSON reason, per family; probes never", async () => {
  const t = await startTestGateway({
    plugins: [plugin],
    env: { LZSYNC_TOKEN: "admin-Secret-0001" },
    config: {
      gateway: {
        rate_limits: {
          reads: { ip: { rate_per_s: 0.5, burst: 5 } },
          trigger: { ip: { rate_per_s: 0.5, burst: 3 } },
          writes: { ip: { rate_per_s: 0.5, burst: 4 } },
          webhook: { ip: { rate_per_s: 0.5, burst: 6 } },
          connects: { ip: { rate_per_s: 0.5, burst: 2 } },
        },
      },
    },
  });
  const auth = { authorization: "Bearer admin-Secret-0001" };
  try {
    const reads = await statuses(8, () => fetch(`${t.url}/api/v1/probe/file`, { headers: auth }));
    assert.deepEqual(reads, [200, 200, 200, 200, 200, 429, 429, 429]);
    const r = await fetch(`${t.url}/api/v1/probe/file`, { headers: auth });
    assert.equal(r.status, 429);
    const retry = r.headers.get("retry-after")!;
    assert.match(retry, /^[1-9]\d*$/, "Retry-After: whole seconds, at least 1");
    assert.equal(Number(retry), 2, "one token comes back in 1/0.5 s");
    const body = await r.json();
    assert.equal(body.error, "rate_limited");
    assert.equal(body.family, "reads");
    assert.equal(body.retry_after_s, 2);
    assert.match(body.reason, /gateway\.rate_limits\.reads\.ip: 0\.5\/s, burst 5/);
    assert.ok(!JSON.stringify(body).includes("admin-Secret"), "no token in the answer");
    // Each family has its own bucket: reads ran out, the others did not.
    const trig = await statuses(
      5,
      () => fetch(`${t.url}/api/v1/probe/trigger`, { method: "POST", headers: auth }),
    );
    assert.deepEqual(trig, [202, 202, 202, 429, 429]);
    const writes = await statuses(
      6,
      () => fetch(`${t.url}/api/v1/probe/object`, { method: "PUT", headers: auth, body: "{}" }),
    );
    assert.deepEqual(writes, [200, 200, 200, 200, 429, 429]);
    const hooks = await statuses(8, () => fetch(`${t.url}/webhooks/probe`, { method: "POST", body: "{}" }));
    assert.deepEqual(hooks, [202, 202, 202, 202, 202, 202, 429, 429]);
    const host = new URL(t.url).host;
    const ws = [];
    for (let i = 0; i < 3; i++) {
      ws.push(
        (await rawHttp(t.url, "GET", "/ws/sync-events?access_token=admin-Secret-0001", {
          Host: host,
          ...WS_HEADERS,
        }))
          .status,
      );
    }
    assert.deepEqual(ws, [101, 101, 429], "WebSocket connects are limited");
    const sse = await fetch(`${t.url}/api/v1/events`, { headers: auth });
    assert.equal(sse.status, 429, "SSE connects share the connects bucket");
    assert.ok(Number(sse.headers.get("retry-after")) >= 1);
    await sse.body?.cancel();
    const health = await statuses(50, () => fetch(`${t.url}/healthz`));
    assert.equal(count(health, 200), 50, "/healthz is never limited");
    const ready = await statuses(20, () => fetch(`${t.url}/readyz`));
    assert.equal(count(ready, 200), 20, "/readyz is never limited");
    const text = await t.deps.metrics.metrics(); // GET /metrics is a read, and this address has none left
    const limited: [string, number][] = [["reads", 4], ["trigger", 2], ["writes", 2], ["webhook", 2], [
      "connects",
      2,
    ]];
    for (const [family, n] of limited) {
      assert.match(
        text,
        new RegExp(`lzsync_gateway_rate_limited_total\\{family="${family}",by="ip"\\} ${n}\\b`),
        family,
      );
    }
  } finally {
    await t.stop();
  }
});

Deno.test("rate limits: the defaults let a Portal page load and a GitHub delivery burst through", async () => {
  const t = await startTestGateway({ plugins: [plugin] });
  try {
    const page = await statuses(300, () => fetch(`${t.url}/api/v1/probe/file`), 30);
    assert.equal(count(page, 200), 300, "300 reads at once from one address");
    const hooks = await statuses(
      100,
      () => fetch(`${t.url}/webhooks/probe`, { method: "POST", body: "{}" }),
      20,
    );
    assert.equal(count(hooks, 202), 100, "a burst of 100 deliveries from one GitHub address");
    const sse = await statuses(20, () => fetch(`${t.url}/api/v1/events`), 20);
    assert.equal(count(sse, 200), 20, "20 live connects (tabs) from one address");
  } finally {
    await t.stop();
  }
});

Deno.test("rate limits: a token is limited across every address using it; another token is not", async () => {
  const env = { LZSYNC_TOKEN: "admin-Secret-0001", PORTAL: "portal-Secret-0002" };
  const t = await startTestGateway({
    plugins: [plugin],
    env,
    config: {
      gateway: {
        trusted_proxies: ["127.0.0.1"],
        tokens: [{ name: "portal", token_env: "PORTAL", scopes: ["trigger", "read"] }],
        rate_limits: {
          trigger: { ip: { rate_per_s: 100, burst: 100 }, token: { rate_per_s: 0.2, burst: 4 } },
        },
      },
    },
  });
  try {
    const trigger = (token: string, ip: string) =>
      fetch(`${t.url}/api/v1/probe/trigger`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "x-forwarded-for": ip },
      });
    const portal = await statuses(6, (i) => trigger("portal-Secret-0002", `198.51.100.${i + 1}`));
    assert.deepEqual(portal, [202, 202, 202, 202, 429, 429], "six addresses, one token: the token's bucket");
    const r = await trigger("portal-Secret-0002", "198.51.100.77");
    assert.equal(r.status, 429);
    const body = await r.json();
    assert.match(body.reason, /token "portal".*gateway\.rate_limits\.trigger\.token: 0\.2\/s, burst 4/);
    assert.equal(r.headers.get("retry-after"), "5");
    assert.ok(!JSON.stringify(body).includes("portal-Secret"), "the token is named, never shown");
    const admin = await statuses(3, () => trigger("admin-Secret-0001", "198.51.100.1"));
    assert.deepEqual(admin, [202, 202, 202], "another token has its own bucket");
    const wrong = await statuses(3, () => trigger("guess", "198.51.100.1"));
    assert.deepEqual(wrong, [401, 401, 401], "an unknown token is refused, never charged to a bucket");
  } finally {
    await t.stop();
  }
});

Deno.test("trusted_proxies: X-Forwarded-For is ignored from a direct client (spoofing) and read behind a proxy", async () => {
  // anonymous_reads: always — in the default loopback mode a request carrying X-Forwarded-For needs a token.
  const limits = { anonymous_reads: "always", rate_limits: { reads: { ip: { rate_per_s: 0.1, burst: 3 } } } };
  const direct = await startTestGateway({ plugins: [plugin], config: { gateway: limits } });
  try {
    const spoofed = await statuses(
      6,
      (i) => fetch(`${direct.url}/api/v1/probe/file`, { headers: { "x-forwarded-for": `203.0.113.${i}` } }),
    );
    assert.deepEqual(spoofed, [200, 200, 200, 429, 429, 429], "a new X-Forwarded-For each time buys nothing");
    const r = await fetch(`${direct.url}/api/v1/probe/file`, {
      headers: { "x-forwarded-for": "203.0.113.99" },
    });
    assert.match((await r.json()).reason, /from 127\.0\.0\.1 /, "the peer address is the client");
  } finally {
    await direct.stop();
  }
  const proxied = await startTestGateway({
    plugins: [plugin],
    config: { gateway: { ...limits, trusted_proxies: ["127.0.0.0/8", "::1"] } },
  });
  try {
    const get = (xff: string) =>
      fetch(`${proxied.url}/api/v1/probe/file`, { headers: { "x-forwarded-for": xff } });
    assert.deepEqual(await statuses(4, () => get("198.51.100.7")), [200, 200, 200, 429]);
    assert.deepEqual(
      await statuses(3, () => get("198.51.100.8")),
      [200, 200, 200],
      "another client behind it",
    );
    // The client prepends hops of its own; the proxy appends the address it saw (198.51.100.7).
    const forged = await statuses(3, (i) => get(`10.9.9.${i}, 198.51.100.7`));
    assert.deepEqual(forged, [429, 429, 429], "hops left of the real client are not read");
    const r = await get("6.6.6.6, 198.51.100.7, 127.0.0.5");
    assert.equal(r.status, 429, "a chain of trusted proxies is walked to the first untrusted hop");
    assert.match((await r.json()).reason, /from 198\.51\.100\.7 /);
    assert.equal((await get("2001:db8:1:2::5")).status, 200);
    for (const ip of ["2001:db8:1:2::6", "2001:db8:1:2:ffff::1"]) await (await get(ip)).body?.cancel();
    const v6 = await get("2001:db8:1:2:aaaa::9");
    assert.equal(v6.status, 429, "IPv6 clients are counted by their /64");
    await v6.body?.cancel();
  } finally {
    await proxied.stop();
  }
  assert.throws(
    () => resolveConfig({ gateway: { trusted_proxies: ["10.0.0.0/33"] } }, {}),
    /\/gateway\/trusted_proxies\/0: "10\.0\.0\.0\/33": the prefix length must be 0-32/,
  );
});

Deno.test("allow_from: only listed addresses (IPv4 and IPv6) reach a family; others get 403 with a JSON reason", async () => {
  const hooks = [
    "192.30.252.0/22",
    "185.199.108.0/22",
    "140.82.112.0/20",
    "143.55.64.0/20",
    "2a0a:a440::/29",
  ];
  const t = await startTestGateway({
    plugins: [plugin],
    config: {
      gateway: { anonymous_reads: "always", trusted_proxies: ["127.0.0.1"], allow_from: { webhook: hooks } },
    },
  });
  try {
    const deliver = (xff?: string) =>
      fetch(`${t.url}/webhooks/probe`, {
        method: "POST",
        body: "{}",
        headers: xff ? { "x-forwarded-for": xff } : {},
      });
    for (const ip of ["140.82.115.3", "192.30.252.1", "2a0a:a440::10", "::ffff:143.55.64.9"]) {
      const r = await deliver(ip);
      assert.equal(r.status, 202, ip);
      await r.body?.cancel();
    }
    for (const ip of ["140.82.128.1", "203.0.113.9", "2a0a:a448::1", "2001:db8::1"]) {
      const r = await deliver(ip);
      assert.equal(r.status, 403, ip);
      const body = await r.json();
      assert.equal(body.error, "ip_not_allowed");
      assert.match(body.reason, new RegExp(`${ip.replace(/\./g, "\\.")} may not send webhook requests`));
      assert.match(body.reason, /gateway\.allow_from\.webhook/);
    }
    const peer = await deliver();
    assert.equal(peer.status, 403, "the proxy itself (127.0.0.1) is not a GitHub address");
    await peer.body?.cancel();
    const read = await fetch(`${t.url}/api/v1/probe/file`, { headers: { "x-forwarded-for": "203.0.113.9" } });
    assert.equal(read.status, 200, "a family without a list is open");
    await read.body?.cancel();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(metrics, /lzsync_gateway_ip_refused_total\{family="webhook"\} 5\b/);
  } finally {
    await t.stop();
  }
  // Without trusted_proxies a spoofed X-Forwarded-For in GitHub's range does not pass.
  const direct = await startTestGateway({
    plugins: [plugin],
    config: { gateway: { allow_from: { webhook: hooks } } },
  });
  try {
    const r = await fetch(`${direct.url}/webhooks/probe`, {
      method: "POST",
      body: "{}",
      headers: { "x-forwarded-for": "140.82.115.3" },
    });
    assert.equal(r.status, 403);
    assert.match((await r.json()).reason, /^127\.0\.0\.1 may not send/);
  } finally {
    await direct.stop();
  }
  assert.throws(
    () => resolveConfig({ gateway: { allow_from: { reads: ["10.0.0.0/8", "::/200"] } } }, {}),
    /\/gateway\/allow_from\/reads\/1/,
  );
});

Deno.test("rate limits: a flood of distinct client addresses keeps at most max_clients buckets", async () => {
  const t = await startTestGateway({
    plugins: [plugin],
    config: {
      gateway: {
        anonymous_reads: "always",
        trusted_proxies: ["127.0.0.1"],
        rate_limits: { max_clients: 100, reads: { ip: { rate_per_s: 0.01, burst: 2 } } },
      },
    },
  });
  try {
    const get = (ip: string) => fetch(`${t.url}/api/v1/probe/file`, { headers: { "x-forwarded-for": ip } });
    assert.deepEqual(await statuses(3, () => get("198.51.100.7")), [200, 200, 429]);
    const flood = await statuses(3000, (i) => {
      if (i % 20 === 0) return get("198.51.100.7");
      return get(i % 2 ? `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` : `2001:db8:${i.toString(16)}::1`);
    }, 10);
    assert.equal(count(flood, 429), 150, "the busy client stays limited through the flood");
    const sizes = t.gateway.rateLimitBuckets();
    assert.ok(sizes["reads/ip"] <= 100, JSON.stringify(sizes));
    assert.equal(sizes["reads/ip"], 100);
  } finally {
    await t.stop();
  }
});
