import assert from "node:assert/strict";
import { CidrSet } from "../../pipeline/cidr.ts";
import { resolveClientIp } from "./client_ip.ts";
import { routeFamily, TokenBuckets } from "./rate_limit.ts";

Deno.test("TokenBuckets: a burst, then the sustained rate; the wait until the next token is answered", () => {
  let now = 0;
  const b = new TokenBuckets(2, 5, 100, () => now);
  for (let i = 0; i < 5; i++) assert.equal(b.take("a"), 0, `burst ${i}`);
  assert.equal(b.take("a"), 0.5, "empty: one token comes back in 1/rate s");
  assert.equal(b.take("b"), 0, "another client has its own bucket");
  now += 250;
  assert.equal(b.take("a"), 0.25);
  now += 250;
  assert.equal(b.take("a"), 0, "refilled at 2/s");
  now += 60_000;
  for (let i = 0; i < 5; i++) assert.equal(b.take("a"), 0, "refills up to burst, never beyond");
  assert.ok(b.take("a") > 0);
});

Deno.test("TokenBuckets: a flood of distinct clients keeps at most max buckets and the busiest client's bucket", () => {
  let now = 0;
  const b = new TokenBuckets(1, 3, 100, () => now);
  for (let i = 0; i < 3; i++) b.take("abuser");
  assert.ok(b.take("abuser") > 0);
  for (let i = 0; i < 100_000; i++) {
    b.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    if (i % 50 === 0) assert.ok(b.take("abuser") > 0, "the abuser stays limited while it keeps sending");
    assert.ok(b.size <= 100);
    now += 0.001;
  }
  assert.equal(b.size, 100);
});

Deno.test("routeFamily() sorts every route into webhook, trigger, writes, reads or connects; probes are exempt", () => {
  const cases: [string, string, string | null][] = [
    ["GET", "/healthz", null],
    ["GET", "/readyz", null],
    ["GET", "/ws/sync-events", "connects"],
    ["GET", "/api/v1/events", "connects"],
    ["POST", "/webhooks/github", "webhook"],
    ["POST", "/api/v1/sync/trigger", "trigger"],
    ["POST", "/api/v1/fabrics/dc1/sync", "trigger"],
    ["POST", "/api/v1/fabrics", "writes"],
    ["PUT", "/api/v1/fabrics/dc1/objects/vpc/v1", "writes"],
    ["DELETE", "/api/v1/fabrics/dc1", "writes"],
    ["POST", "/api/v1/analytics/sql", "writes"],
    ["GET", "/api/v1/docs/pmo.yaml", "reads"],
    ["GET", "/metrics", "reads"],
    ["GET", "/", "reads"],
    ["OPTIONS", "/api/v1/sync/trigger", "reads"],
  ];
  for (const [method, path, family] of cases) {
    assert.equal(routeFamily(method, path), family, `${method} ${path}`);
  }
});

Deno.test("resolveClientIp(): X-Forwarded-For counts only behind a trusted proxy, rightmost untrusted hop wins", () => {
  const trusted = new CidrSet(["10.0.0.0/8", "fd00::/8"]);
  assert.equal(
    resolveClientIp("203.0.113.9", "1.2.3.4", trusted),
    "203.0.113.9",
    "untrusted peer: XFF ignored",
  );
  assert.equal(
    resolveClientIp("10.0.0.2", undefined, trusted),
    "10.0.0.2",
    "a proxy without XFF is the client",
  );
  assert.equal(resolveClientIp("10.0.0.2", "198.51.100.7", trusted), "198.51.100.7");
  assert.equal(
    resolveClientIp("10.0.0.2", "6.6.6.6, 198.51.100.7", trusted),
    "198.51.100.7",
    "a spoofed hop left of the real client is never read",
  );
  assert.equal(resolveClientIp("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.9", trusted), "198.51.100.7");
  assert.equal(resolveClientIp("fd00::2", "2001:db8::7", trusted), "2001:db8::7");
  assert.equal(
    resolveClientIp("10.0.0.2", "10.0.0.3, 10.0.0.4", trusted),
    "10.0.0.3",
    "all trusted: leftmost",
  );
  assert.equal(resolveClientIp("10.0.0.2", "198.51.100.7, garbage", trusted), "10.0.0.2", "garbage: stop");
  assert.equal(resolveClientIp("10.0.0.2", "[2001:db8::7]:5555", trusted), "2001:db8::7");
});
