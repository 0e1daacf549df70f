/**
 * Connection rules that look across the fabric directory, after githedgehog/fabric v0.126.0
 * `Connection.Validate` (the part behind `kube != nil`): a port belongs to one Connection, and the /31 point-to-
 * point addresses of fabric, mesh and gateway links are used once in the fabric. Every Connection is indexed
 * once per context ({@link RuleContext.memo}), so checking n Connections costs O(n), not O(n²).
 *
 * Offline: "the address is inside the fabric subnet" needs the Fabricator config (`fabricCfg.FabricSubnet`),
 * which the directory does not hold; it is not checked.
 */
import { childPath, indexPath } from "./finding.ts";
import { type Cidr, formatIPv4, parseCidr } from "./ipv4.ts";
import type { KubeObject } from "./object.ts";
import type { Report, RuleContext, RuleInfo } from "./rule_pack.ts";
import { WIRING_GROUP } from "./rules_hedgehog_vpc.ts";
import { LINK_TYPES } from "./rules_hedgehog_wiring.ts";
import { list, names, obj, text } from "./rules_util.ts";

/** The rules of this module. */
export const LINK_RULES: readonly RuleInfo[] = [
  {
    id: "hedgehog.connection.port-in-use",
    kinds: ["Connection"],
    description:
      "a port (a breakout's first lane E1/4/1 counts as E1/4) is used by one Connection of the fabric (v0.126.0 Connection.Validate)",
  },
  {
    id: "hedgehog.connection.link-ips",
    kinds: ["Connection"],
    description:
      "fabric, mesh and gateway link IPs are /31s, both ends in the same /31, each address used once in the fabric (v0.126.0 Connection.Validate; the fabric subnet is offline)",
  },
];

/** The link type of a Connection spec, or undefined unless it has exactly one. */
export function linkTypeOf(spec: Record<string, unknown>): string | undefined {
  let found: string | undefined;
  for (const t in LINK_TYPES) {
    if (spec[t] === undefined || spec[t] === null) continue;
    if (found) return undefined;
    found = t;
  }
  return found;
}

/** The port strings of a link-type block (as `endpoints`, without building field paths). */
export function portsOf(block: Record<string, unknown>): string[] {
  const out: string[] = [];
  const visit = (link: unknown) => {
    for (const ep of Object.values(obj(link))) {
      const port = obj(ep).port;
      if (typeof port === "string") out.push(port);
    }
  };
  if (block.link !== undefined) visit(block.link);
  for (const field of ["links", "peerLinks", "sessionLinks"]) for (const l of list(block[field])) visit(l);
  return out;
}

/** An endpoint of a Connection with its field path (see `endpoints` in rules_hedgehog_wiring.ts). */
export type Endpoint = { path: string; port: unknown; role: string };

/** The two ends of each link type whose links carry /31 addresses. */
const IP_ROLES: Record<string, [string, string]> = {
  fabric: ["spine", "leaf"],
  mesh: ["leaf1", "leaf2"],
  gateway: ["switch", "gateway"],
};

/**
 * The port a Connection port collides on: `leaf-01/E1/4` is an alias of the breakout lane `leaf-01/E1/4/1`
 * (v0.126.0 compares both spellings), so ports of the form `<device>/<a>/<b>` count as their first lane.
 */
export function portKey(port: string): string {
  let slashes = 0;
  for (let i = 0; i < port.length; i++) if (port.charCodeAt(i) === 47) slashes++;
  return slashes === 2 ? port + "/1" : port;
}

interface ConnectionIndex {
  /** Connections by port key. */
  ports: Map<string, string[]>;
  /** Connections by fabric/mesh/gateway link address (32-bit). */
  ips: Map<number, string[]>;
}

function add<K>(m: Map<K, string[]>, k: K, name: string): void {
  const l = m.get(k);
  if (!l) m.set(k, [name]);
  else if (!l.includes(name)) l.push(name);
}

function buildIndex(ctx: RuleContext): ConnectionIndex {
  const index: ConnectionIndex = { ports: new Map(), ips: new Map() };
  for (const c of ctx.list!(WIRING_GROUP, "Connection")) {
    const spec = obj(c.spec);
    const type = linkTypeOf(spec);
    if (!type) continue;
    const name = c.metadata.name;
    for (const port of portsOf(obj(spec[type]))) add(index.ports, portKey(port), name);
    const roles = IP_ROLES[type];
    if (!roles) continue;
    for (const link of list(obj(spec[type]).links)) {
      for (const role of roles) {
        const ip = parseCidr(obj(obj(link)[role]).ip);
        if (ip) add(index.ips, ip.addr, name);
      }
    }
  }
  return index;
}

const others = (owners: string[] | undefined, self: string) => (owners ?? []).filter((n) => n !== self);

/** Checks one Connection (of link `type`, endpoints `eps`) against the other Connections and its own links. */
export function checkConnectionLinks(
  o: KubeObject,
  type: string,
  eps: readonly Endpoint[],
  report: Report,
  ctx: RuleContext,
): void {
  const spec = obj(o.spec);
  const at = childPath("spec", type);
  const self = o.metadata.name;
  const index = ctx.list && ctx.memo ? ctx.memo("hedgehog.connections", () => buildIndex(ctx)) : undefined;
  if (index) {
    for (const ep of eps) {
      if (typeof ep.port !== "string") continue;
      const used = others(index.ports.get(portKey(ep.port)), self);
      if (used.length) {
        report(
          "hedgehog.connection.port-in-use",
          ep.path,
          `port ${ep.port} is already used by Connection ${
            names(used)
          }; a port belongs to one Connection (E1/4 and its breakout lane E1/4/1 are the same port)`,
        );
      }
    }
  }
  const roles = IP_ROLES[type];
  if (!roles) return;
  const mine = new Map<number, string>();
  list(obj(spec[type]).links).forEach((link, i) => {
    const lat = indexPath(childPath(at, "links"), i);
    const ends = roles.map((role) => ({
      role,
      ip: obj(obj(link)[role]).ip,
      path: childPath(childPath(lat, role), "ip"),
    }));
    if (ends.some((e) => !text(e.ip))) return; // links without addresses are not checked (as in v0.126.0)
    const parsed: (Cidr | undefined)[] = [];
    for (const e of ends) {
      const c = parseCidr(e.ip);
      parsed.push(c);
      if (!c || c.len !== 31) {
        report(
          "hedgehog.connection.link-ips",
          e.path,
          `${type} link ${e.role} ip ${JSON.stringify(e.ip)} must be an IPv4 /31 such as 172.30.128.0/31`,
        );
        continue;
      }
      const used = index ? others(index.ips.get(c.addr), self) : [];
      const here = mine.get(c.addr);
      if (used.length || here) {
        report(
          "hedgehog.connection.link-ips",
          e.path,
          `${type} link ${e.role} ip ${formatIPv4(c.addr)} is already used by ${
            here ? `${here} of this Connection` : `Connection ${names(used)}`
          }; each link address is used once in the fabric`,
        );
      }
      if (!here) mine.set(c.addr, e.path);
    }
    const [a, b] = parsed;
    if (a && b && a.len === 31 && b.len === 31 && a.network !== b.network) {
      report(
        "hedgehog.connection.link-ips",
        lat,
        `${type} link ${roles[0]} ip ${a.text} and ${
          roles[1]
        } ip ${b.text} are not in the same /31; use the two addresses of one /31`,
      );
    }
  });
}
