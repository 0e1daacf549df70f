/**
 * IP addresses and CIDR ranges (IPv4 and IPv6) for the gateway's `trusted_proxies` and `allow_from`.
 * Addresses are validated by `node:net`'s `isIP`; matching is one 128-bit space (an IPv4 address is its
 * IPv4-mapped IPv6 form `::ffff:a.b.c.d`, so an IPv4 range also matches the mapped spelling). `net.BlockList`
 * would do the same but costs ~8 µs a check in Deno, on every request.
 */
import { isIP } from "node:net";

/** A parsed range: the address, its prefix length and family. */
export interface Cidr {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/**
 * Parses `1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32` or `::1`; a bare address is a /32 or /128.
 * Returns a sentence saying what is wrong for anything else.
 */
export function parseCidr(text: string): Cidr | string {
  const [address, prefixText, ...rest] = text.trim().split("/");
  const v = isIP(address);
  if (!v || rest.length) {
    return `"${text}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 2001:db8::/32)`;
  }
  const max = v === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return `"${text}": the prefix length must be 0-${max}`;
  return { address, prefix, family: v === 4 ? "ipv4" : "ipv6" };
}

/**
 * A normalized client address, or null when `text` is not one: brackets and a port are dropped
 * (`[::1]:443`, `1.2.3.4:80`, as some proxies write X-Forwarded-For), IPv4-mapped IPv6 becomes IPv4, IPv6 is
 * lowercased and compressed.
 */
export function normalizeIp(text: string): string | null {
  let t = text.trim();
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(t);
  if (bracket) t = bracket[1];
  else if (/^[\d.]+:\d+$/.test(t)) t = t.slice(0, t.lastIndexOf(":"));
  const v = isIP(t);
  if (v === 4) return t;
  if (v !== 6 || t.includes("%")) return null;
  const host = new URL(`http://[${t}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const [hi, lo] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
  }
  return host;
}

/**
 * The key a client is counted under: an IPv4 address as is, an IPv6 address by its /64 (one subscriber
 * network gets a whole /64, so counting single IPv6 addresses would let one client rotate through 2^64 keys).
 */
export function clientKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  const [left, right = ""] = ip.split("::");
  const l = left ? left.split(":") : [];
  const r = right ? right.split(":") : [];
  const groups = ip.includes("::") ? [...l, ...Array(8 - l.length - r.length).fill("0"), ...r] : l;
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** The 128-bit value of a normalized address ({@link normalizeIp}); IPv4 as `::ffff:a.b.c.d`. */
function toBits(ip: string): bigint {
  if (!ip.includes(":")) {
    const [a, b, c, d] = ip.split(".").map(Number);
    return (0xffffn << 32n) | BigInt(a * 2 ** 24 + b * 2 ** 16 + c * 2 ** 8 + d);
  }
  const [left, right = ""] = ip.split("::");
  const l = left ? left.split(":") : [];
  const r = right ? right.split(":") : [];
  const groups = ip.includes("::") ? [...l, ...Array(8 - l.length - r.length).fill("0"), ...r] : l;
  return BigInt(`0x${groups.map((g) => g.padStart(4, "0")).join("")}`);
}

/** A set of ranges answering "is this address in one of them". */
export class CidrSet {
  readonly #ranges: { net: bigint; mask: bigint }[] = [];
  readonly size: number;

  /** `ranges` must be valid ({@link parseCidr}); an invalid one throws a TypeError naming it. */
  constructor(ranges: readonly string[]) {
    for (const r of ranges) {
      const c = parseCidr(r);
      if (typeof c === "string") throw new TypeError(c);
      const prefix = c.family === "ipv4" ? c.prefix + 96 : c.prefix;
      const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
      this.#ranges.push({ net: toBits(normalizeIp(c.address)!) & mask, mask });
    }
    this.size = ranges.length;
  }

  /** True when `ip` (normalized, see {@link normalizeIp}) is in a range. */
  has(ip: string): boolean {
    if (!this.size) return false;
    const bits = toBits(ip);
    return this.#ranges.some((r) => (bits & r.mask) === r.net);
  }
}
