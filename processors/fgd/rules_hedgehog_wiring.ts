/**
 * Hedgehog `wiring.githedgehog.com` admission rules: Connection (exactly one link type, `<device>/<port>`
 * names, unique ports, the endpoints each link type allows), VLANNamespace ranges and Switch addresses.
 */
import { childPath, indexPath } from "./finding.ts";
import { type Cidr, cidrContains, cidrOverlaps, parseCidr, parseIPv4 } from "./ipv4.ts";
import type { KubeObject } from "./object.ts";
import type { Report, RuleContext } from "./rule_pack.ts";
import { checkRef, WIRING_GROUP } from "./rules_hedgehog_vpc.ts";
import { int, list, names, obj, text } from "./rules_util.ts";

/** Connection link types and, for each, whether it holds `links` (a list) or one `link`. */
export const LINK_TYPES: Record<string, "links" | "link" | "domain"> = {
  unbundled: "link",
  bundled: "links",
  mclag: "links",
  eslag: "links",
  mclagDomain: "domain",
  fabric: "links",
  mesh: "links",
  gateway: "links",
  vpcLoopback: "links",
  external: "link",
  staticExternal: "link",
};

/** Every `{port: "..."}` endpoint under a link-type block, with its field path. */
export function endpoints(
  block: Record<string, unknown>,
  at: string,
): { path: string; port: unknown; role: string }[] {
  const out: { path: string; port: unknown; role: string }[] = [];
  const visitLink = (link: unknown, lat: string) => {
    for (const [role, ep] of Object.entries(obj(link))) {
      if ("port" in obj(ep)) {
        out.push({ path: childPath(childPath(lat, role), "port"), port: obj(ep).port, role });
      }
    }
  };
  if (block.link !== undefined) visitLink(block.link, childPath(at, "link"));
  for (const field of ["links", "peerLinks", "sessionLinks"]) {
    list(block[field]).forEach((l, i) => visitLink(l, indexPath(childPath(at, field), i)));
  }
  return out;
}

const device = (port: unknown) => (typeof port === "string" ? port.slice(0, port.indexOf("/")) : "");

function checkConnection(o: KubeObject, report: Report, ctx: RuleContext): void {
  const spec = obj(o.spec);
  const used = Object.keys(LINK_TYPES).filter((t) => spec[t] !== undefined && spec[t] !== null);
  if (used.length !== 1) {
    report(
      "hedgehog.connection.link-type",
      "spec",
      used.length === 0
        ? `a Connection needs exactly one link type; use one of ${names(Object.keys(LINK_TYPES))}`
        : `a Connection has exactly one link type, this one has ${used.length} (${
          names(used)
        }); split it into separate Connections`,
    );
    return;
  }
  const type = used[0];
  const eps = endpoints(obj(spec[type]), childPath("spec", type));
  const seen = new Map<string, string>();
  for (const ep of eps) {
    if (typeof ep.port !== "string" || !/^[a-z0-9][-a-z0-9.]*\/\S+$/.test(ep.port)) {
      report(
        "hedgehog.connection.port-name",
        ep.path,
        `port ${JSON.stringify(ep.port)} must be "<device>/<port>", e.g. leaf-01/E1/1 or server-01/enp2s1`,
      );
      continue;
    }
    const prior = seen.get(ep.port);
    if (prior) {
      report(
        "hedgehog.connection.unique-ports",
        ep.path,
        `port ${ep.port} is already used at ${prior}; each port appears once`,
      );
    } else seen.set(ep.port, ep.path);
  }
  const devicesOf = (role: string) => new Set(eps.filter((e) => e.role === role).map((e) => device(e.port)));
  const expect = (ok: boolean, message: string) => {
    if (!ok) report("hedgehog.connection.endpoints", childPath("spec", type), message);
  };
  switch (type) {
    case "bundled":
    case "unbundled":
      expect(
        devicesOf("server").size === 1 && devicesOf("switch").size === 1,
        `a ${type} connection links one server to one switch`,
      );
      break;
    case "eslag":
    case "mclag": {
      const sw = devicesOf("switch").size;
      const max = type === "mclag" ? 2 : 4;
      expect(
        devicesOf("server").size === 1 && sw >= 1 && sw <= max,
        `an ${type} connection links one server to 1-${max} switches; this one has ${sw}`,
      );
      break;
    }
    case "mclagDomain":
      expect(
        new Set([...devicesOf("switch1"), ...devicesOf("switch2")]).size === 2 &&
          list(obj(spec[type]).peerLinks).length > 0 && list(obj(spec[type]).sessionLinks).length > 0,
        "an mclagDomain connection pairs exactly two switches with at least one peer link and one session link",
      );
      break;
    case "fabric":
      expect(
        devicesOf("spine").size === 1 && devicesOf("leaf").size === 1 &&
          ![...devicesOf("spine")].some((d) => devicesOf("leaf").has(d)),
        "a fabric connection links one spine to one different leaf",
      );
      break;
    case "mesh":
      expect(
        new Set([...devicesOf("leaf1"), ...devicesOf("leaf2")]).size === 2,
        "a mesh connection links exactly two leaves",
      );
      break;
    case "vpcLoopback":
      expect(
        new Set([...devicesOf("switch1"), ...devicesOf("switch2")]).size === 1,
        "a vpcLoopback connection loops ports of one switch",
      );
      break;
    case "gateway":
      expect(devicesOf("switch").size === 1, "a gateway connection links one switch to the gateway");
      break;
    case "staticExternal":
      checkStaticExternal(o, report);
      break;
  }
  checkConnectionRefs(o, type, report, ctx);
}

/** Device names by role: switches (every switch-side role) and servers. */
function devices(
  eps: { port: unknown; role: string }[],
  type: string,
): { switches: string[]; servers: string[] } {
  const sw = new Set<string>();
  const srv = new Set<string>();
  for (const e of eps) {
    const d = device(e.port);
    if (!d) continue;
    if (e.role === "server") srv.add(d);
    else if (type !== "gateway" || e.role !== "gateway") sw.add(d);
  }
  return { switches: [...sw], servers: [...srv] };
}

function checkConnectionRefs(o: KubeObject, type: string, report: Report, ctx: RuleContext): void {
  if (!ctx.lookup) return;
  const eps = endpoints(obj(obj(o.spec)[type]), childPath("spec", type));
  const { switches, servers } = devices(eps, type);
  for (const s of servers) checkRef(ctx, report, childPath("spec", type), WIRING_GROUP, "Server", s);
  const found: [string, Record<string, unknown>][] = [];
  for (const s of switches) {
    const sw = checkRef(ctx, report, childPath("spec", type), WIRING_GROUP, "Switch", s);
    if (sw) found.push([s, obj(obj(sw.spec).redundancy)]);
  }
  if (!["mclag", "eslag", "mclagDomain"].includes(type) || found.length !== switches.length) return;
  const groups = new Set(found.map(([, r]) => text(r.group) ?? ""));
  const types = new Set(found.map(([, r]) => text(r.type) ?? ""));
  const want = type === "eslag" ? "eslag" : "mclag";
  if (groups.size !== 1 || groups.has("") || types.size !== 1 || !types.has(want)) {
    report(
      "hedgehog.connection.redundancy",
      childPath("spec", type),
      `the switches of an ${type} connection share one redundancy group of type ${want}; found ${
        names(
          found.map(([n, r]) => `${n} (group ${text(r.group) ?? "none"}, type ${text(r.type) ?? "none"})`),
        )
      }`,
    );
  }
}

function checkStaticExternal(o: KubeObject, report: Report): void {
  const se = obj(obj(obj(obj(o.spec).staticExternal).link).switch);
  const at = "spec.staticExternal.link.switch";
  const link = parseCidr(se.ip);
  if (!link) {
    report(
      "hedgehog.connection.static-external",
      childPath(at, "ip"),
      "staticExternal switch ip must be an IPv4 address with prefix length, e.g. 172.31.0.1/24",
    );
  }
  const hop = parseIPv4(se.nextHop);
  if (hop === undefined || (link && !cidrContains(link, hop))) {
    report(
      "hedgehog.connection.static-external",
      childPath(at, "nextHop"),
      `nextHop ${JSON.stringify(se.nextHop)} must be an IPv4 address inside the link's CIDR${
        link ? ` ${link.text}` : ""
      }`,
    );
  }
  const subnets = list(se.subnets);
  const seen: [number, Cidr][] = [];
  subnets.forEach((s, i) => {
    const sat = indexPath(childPath(at, "subnets"), i);
    const c = parseCidr(s);
    if (!c) {
      report(
        "hedgehog.connection.static-external",
        sat,
        `${JSON.stringify(s)} is not a prefix such as 10.99.0.0/24`,
      );
      return;
    }
    if (s === "0.0.0.0/0") {
      if (subnets.length > 1) {
        report(
          "hedgehog.connection.static-external",
          sat,
          "the default route 0.0.0.0/0 must be the only subnet of a staticExternal connection",
        );
      }
      return;
    }
    if (c.addr !== c.network) {
      report(
        "hedgehog.connection.static-external",
        sat,
        `subnet ${c.text} is not canonical (host bits set); use the network address with its prefix length`,
      );
      return;
    }
    const clash = seen.find(([, x]) => cidrOverlaps(x, c));
    if (clash) {
      report(
        "hedgehog.connection.static-external",
        sat,
        `subnet ${c.text} overlaps subnet ${clash[0]} (${clash[1].text}); the subnets must not overlap`,
      );
    }
    seen.push([i, c]);
  });
}

function checkVlanNamespace(o: KubeObject, report: Report): void {
  const ranges: [number, number][] = [];
  list(obj(o.spec).ranges).forEach((r, i) => {
    const from = int(obj(r).from);
    const to = int(obj(r).to);
    const at = indexPath("spec.ranges", i);
    if (from === undefined || to === undefined || from < 1 || to > 4094 || from > to) {
      report("hedgehog.vlannamespace.ranges", at, "a VLAN range needs 1 <= from <= to <= 4094");
      return;
    }
    const clash = ranges.find(([a, b]) => from <= b && a <= to);
    if (clash) {
      report(
        "hedgehog.vlannamespace.ranges",
        at,
        `range ${from}-${to} overlaps ${clash[0]}-${clash[1]}; ranges must not overlap`,
      );
    }
    ranges.push([from, to]);
  });
}

function checkSwitch(o: KubeObject, report: Report): void {
  const spec = obj(o.spec);
  for (
    const [f, what] of [["asn", "ASN"], ["ip", "IP"], ["protocolIP", "protocol IP"], ["profile", "profile"]]
  ) {
    if (spec[f] === undefined || spec[f] === "" || spec[f] === 0) {
      report("hedgehog.switch.required", childPath("spec", f), `a Switch needs its ${what} (spec.${f})`);
    }
  }
  if (typeof spec.role === "string" && spec.role.endsWith("spine") && text(spec.vtepIP)) {
    report("hedgehog.switch.spine-vtep", "spec.vtepIP", "a spine switch has no VTEP IP; remove spec.vtepIP");
  }
  for (const f of ["ip", "protocolIP", "vtepIP"]) {
    if (spec[f] !== undefined && !parseCidr(spec[f])) {
      report(
        "hedgehog.switch.addresses",
        childPath("spec", f),
        `${f} must be an IPv4 address with prefix length, e.g. 172.30.0.8/21`,
      );
    }
  }
  const red = obj(spec.redundancy);
  if (!!text(red.group) !== !!text(red.type)) {
    report(
      "hedgehog.switch.redundancy",
      "spec.redundancy",
      "redundancy.group and redundancy.type go together: set both (type mclag or eslag) or neither",
    );
  }
}

/** Checks one object of the wiring group. */
export function checkWiringGroup(o: KubeObject, report: Report, ctx: RuleContext = {}): void {
  switch (o.kind) {
    case "Connection":
      return checkConnection(o, report, ctx);
    case "VLANNamespace":
      return checkVlanNamespace(o, report);
    case "Switch":
      return checkSwitch(o, report);
  }
}
