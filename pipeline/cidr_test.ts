import assert from "node:assert/strict";
import { CidrSet, clientKey, normalizeIp, parseCidr } from "./cidr.ts";

Deno.test("parseCidr() takes IPv4/IPv6 addresses and ranges and says what is wrong with anything else", () => {
  assert.deepEqual(parseCidr("140.82.112.0/20"), { address: "140.82.112.0", prefix: 20, family: "ipv4" });
  assert.deepEqual(parseCidr("::1"), { address: "::1", prefix: 128, family: "ipv6" });
  assert.deepEqual(parseCidr("2a0a:a440::/29"), { address: "2a0a:a440::", prefix: 29, family: "ipv6" });
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0/8", "example.com", "10.0.0.0/8/1", "10.0.0.0/x", ""]) {
    assert.equal(typeof parseCidr(bad), "string", bad);
  }
});

Deno.test("normalizeIp() drops brackets and ports, maps ::ffff:a.b.c.d to IPv4 and canonicalizes IPv6", () => {
  assert.equal(normalizeIp(" 203.0.113.9 "), "203.0.113.9");
  assert.equal(normalizeIp("203.0.113.9:4711"), "203.0.113.9");
  assert.equal(normalizeIp("[2001:DB8:0:0::1]:443"), "2001:db8::1");
  assert.equal(normalizeIp("::ffff:203.0.113.9"), "203.0.113.9");
  assert.equal(normalizeIp("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
  for (const bad of ["", "unknown", "1.2.3", "fe80::1%eth0", "<script>", "1.2.3.4.5"]) {
    assert.equal(normalizeIp(bad), null, bad);
  }
});

Deno.test("clientKey() counts an IPv6 client by its /64 and an IPv4 client by its address", () => {
  assert.equal(clientKey("203.0.113.9"), "203.0.113.9");
  assert.equal(clientKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(clientKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"), "2001:db8:1:2::/64");
  assert.equal(clientKey("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(clientKey("::1"), "0:0:0:0::/64");
});

Deno.test("CidrSet matches IPv4 and IPv6 ranges (GitHub's hook ranges as the example)", () => {
  const hooks = new CidrSet(["192.30.252.0/22", "140.82.112.0/20", "2a0a:a440::/29", "2606:50c0::/32"]);
  for (
    const ip of ["140.82.112.1", "140.82.127.255", "192.30.255.3", "2a0a:a440::5", "2606:50c0:8000::154"]
  ) {
    assert.ok(hooks.has(ip), ip);
  }
  for (const ip of ["140.82.128.0", "192.30.251.255", "2a0a:a448::1", "127.0.0.1", "::1"]) {
    assert.ok(!hooks.has(ip), ip);
  }
  assert.ok(!new CidrSet([]).has("127.0.0.1"), "an empty set holds nothing");
  assert.ok(new CidrSet(["0.0.0.0/0"]).has("8.8.8.8"));
  assert.ok(!new CidrSet(["0.0.0.0/0"]).has("2001:db8::1"), "an IPv4 range holds no IPv6 address");
  assert.ok(new CidrSet(["::/0"]).has("2001:db8::1") && new CidrSet(["::/0"]).has("10.0.0.1"));
  assert.ok(new CidrSet(["::ffff:10.0.0.0/104"]).has("10.1.2.3"), "an IPv4-mapped range is the IPv4 range");
  assert.ok(new CidrSet(["10.0.0.1"]).has("10.0.0.1") && !new CidrSet(["10.0.0.1"]).has("10.0.0.2"));
  assert.ok(
    new CidrSet(["2001:db8::/128"]).has("2001:db8::") && !new CidrSet(["2001:db8::/128"]).has("2001:db8::1"),
  );
  assert.throws(() => new CidrSet(["10.0.0.0/40"]), /prefix length/);
});
