/**
 * Who the client is: the direct peer's address, or — only when that peer is one of
 * `gateway.trusted_proxies` — the rightmost `X-Forwarded-For` hop that is not a trusted proxy. A client
 * that talks to the gateway directly cannot choose its address by sending `X-Forwarded-For`: the header is
 * ignored. Proxies append the address they saw, so everything left of the first untrusted hop was written by
 * someone we do not trust and is never read.
 */
import type { Context } from "hono";
import { CidrSet, normalizeIp } from "../../pipeline/cidr.ts";

const CLIENT_IP = "lzsync.client_ip";

/** The address the request came from over TCP (`Deno.serve`'s remoteAddr), normalized; null in-process. */
export function peerIp(c: Context): string | null {
  const addr = (c.env as { remoteAddr?: Deno.NetAddr } | undefined)?.remoteAddr;
  return addr?.hostname ? normalizeIp(addr.hostname) : null;
}

/**
 * The client address of `peer` given its `X-Forwarded-For` value, under `trusted`. With an untrusted peer
 * or no header, the peer. A hop that is not an address ends the walk at the trusted hop right of it.
 */
export function resolveClientIp(peer: string, xff: string | undefined, trusted: CidrSet): string {
  if (!xff || !trusted.has(peer)) return peer;
  let client = peer;
  const hops = xff.split(",");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeIp(hops[i]);
    if (!hop) break;
    client = hop;
    if (!trusted.has(hop)) break;
  }
  return client;
}

/** Middleware that stores the client address for {@link clientIp} (mount before anything that needs it). */
export function clientIpResolver(trustedProxies: readonly string[]) {
  const trusted = new CidrSet(trustedProxies);
  return (c: Context): string | null => {
    const peer = peerIp(c);
    const ip = peer && resolveClientIp(peer, c.req.header("x-forwarded-for"), trusted);
    c.set(CLIENT_IP as never, ip as never);
    return ip;
  };
}

/** The client address resolved for this request, or null (in-process requests have none). */
export function clientIp(c: Context): string | null {
  return (c.get(CLIENT_IP as never) as string | null | undefined) ?? null;
}
