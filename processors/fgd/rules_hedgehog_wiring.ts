/**
 * Hedgehog `wiring.githedgehog.com` admission rules: Connection (exactly one link type, `<device>/<port>`
 * names, unique ports, the endpoints each link type allows), VLANNamespace ranges and Switch addresses.
 */
import { childPath, indexPath } from "./finding.ts";
import { parseCidr } from "./ipv4.ts";
import type { KubeObject } from "./object.ts";
import type { Report } from "./rule_pack.ts";
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
function endpoints(
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

function checkConnection(o: KubeObject, report: Report): void {
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
      expect(
        devicesOf("server").size === 1 && sw >= 1 && sw <= 4,
        `an ${type} connection links one server to 1-4 switches`,
      );
      break;
    }
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
  }
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
export function checkWiringGroup(o: KubeObject, report: Report): void {
  switch (o.kind) {
    case "Connection":
      return checkConnection(o, report);
    case "VLANNamespace":
      return checkVlanNamespace(o, report);
    case "Switch":
      return checkSwitch(o, report);
  }
}
