/**
 * Strict IPv4 address and CIDR parsing for the semantic rule packs (no leading zeros, no shorthand), with
 * containment and overlap checks on 32-bit integers.
 */

/** A parsed `a.b.c.d/len` block. `network` and `broadcast` are the first and last address of the block. */
export interface Cidr {
  text: string;
  addr: number;
  len: number;
  network: number;
  broadcast: number;
}

/** Parses a dotted-quad IPv4 address to an unsigned 32-bit integer, or undefined when it is not one. */
export function parseIPv4(text: unknown): number | undefined {
  if (typeof text !== "string" || text.length < 7 || text.length > 15) return undefined;
  let n = 0, octet = 0, digits = 0, dots = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || octet > 255) return undefined;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined; // leading zero
      octet = octet * 10 + (c - 48);
      digits++;
      if (digits > 3) return undefined;
    } else return undefined;
  }
  return dots === 4 ? n : undefined;
}

function mask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Parses `a.b.c.d/len` (len 0–32), or undefined when it is not a CIDR block. Host bits may be set. */
export function parseCidr(text: unknown): Cidr | undefined {
  if (typeof text !== "string") return undefined;
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const addr = parseIPv4(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (addr === undefined || !/^(3[0-2]|[12]?[0-9])$/.test(lenText)) return undefined;
  const len = Number(lenText);
  const network = (addr & mask(len)) >>> 0;
  const broadcast = (network | (~mask(len) >>> 0)) >>> 0;
  return { text, addr, len, network, broadcast };
}

/** True when `ip` lies inside `c` (network and broadcast addresses included). */
export function cidrContains(c: Cidr, ip: number): boolean {
  return ip >= c.network && ip <= c.broadcast;
}

/** True when every address of `inner` lies inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.network >= outer.network && inner.broadcast <= outer.broadcast;
}

/** True when the two blocks share at least one address. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return a.network <= b.broadcast && b.network <= a.broadcast;
}

/** Formats a 32-bit integer as a dotted quad. */
export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}
