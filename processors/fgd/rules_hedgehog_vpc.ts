/**
 * Hedgehog `vpc.githedgehog.com` admission rules, per kind: VPC, VPCPeering, IPv4Namespace, External,
 * ExternalAttachment, ExternalPeering, VPCAttachment. Written from the rules the Hedgehog webhooks document;
 * each message says what would be accepted.
 */
import { childPath, indexPath } from "./finding.ts";
import {
  type Cidr,
  cidrContains,
  cidrOverlaps,
  cidrWithin,
  formatIPv4,
  parseCidr,
  parseIPv4,
} from "./ipv4.ts";
import { parseMac } from "./default_hedgehog.ts";
import type { KubeObject } from "./object.ts";
import type { Report, RuleContext } from "./rule_pack.ts";
import { int, list, names, obj, text } from "./rules_util.ts";

export const VPC_GROUP = "vpc.githedgehog.com";
export const WIRING_GROUP = "wiring.githedgehog.com";

/** Reports a reference to an object the fabric does not hold (a warning: it may exist in the cluster). */
export function checkRef(
  ctx: RuleContext,
  report: Report,
  path: string,
  group: string,
  kind: string,
  name: string | undefined,
): KubeObject | undefined {
  if (!ctx.lookup || !name) return undefined;
  const found = ctx.lookup(group, kind, name);
  if (!found && name !== "default") {
    report(
      "hedgehog.ref.missing",
      path,
      `${kind} ${name} is not defined in this fabric directory; add it, or make sure it exists in the cluster`,
      "warning",
    );
  }
  return found;
}

function checkVpcSubnet(
  sn: Record<string, unknown>,
  at: string,
  name: string,
  report: Report,
): Cidr | undefined {
  const cidr = parseCidr(sn.subnet);
  if (!cidr) {
    report(
      "hedgehog.vpc.subnet-cidr",
      childPath(at, "subnet"),
      `subnet ${name} needs an IPv4 CIDR such as 10.0.1.0/24`,
    );
    return undefined;
  }
  if (cidr.len > 30) {
    report(
      "hedgehog.vpc.subnet-cidr",
      childPath(at, "subnet"),
      `subnet ${cidr.text} is too small: the prefix length must be 30 or less`,
    );
  }
  const range = { toString: () => `${formatIPv4(cidr.network)}-${formatIPv4(cidr.broadcast)}` };
  let gateway: number | undefined;
  if (sn.hostBGP !== true && sn.gateway !== undefined) {
    gateway = parseIPv4(sn.gateway);
    if (gateway === undefined || !cidrContains(cidr, gateway)) {
      report(
        "hedgehog.vpc.gateway",
        childPath(at, "gateway"),
        `gateway ${
          JSON.stringify(sn.gateway)
        } is not an address inside subnet ${cidr.text}; use one in ${range} ` +
          "(or omit it to use the first address)",
      );
    }
  }
  const dhcp = obj(sn.dhcp);
  const dat = childPath(at, "dhcp");
  if (sn.hostBGP === true && dhcp.enable === true) {
    report(
      "hedgehog.vpc.host-bgp-dhcp",
      childPath(dat, "enable"),
      `subnet ${name} is a hostBGP subnet: DHCP cannot be enabled on it; remove dhcp.enable or hostBGP`,
    );
  }
  if (text(dhcp.relay) && !parseCidr(dhcp.relay)) {
    report(
      "hedgehog.vpc.dhcp-relay",
      childPath(dat, "relay"),
      `dhcp.relay ${
        JSON.stringify(dhcp.relay)
      } must be a prefix (address with prefix length), e.g. 10.20.20.200/32`,
    );
  }
  if (dhcp.enable === true && text(dhcp.relay)) {
    report("hedgehog.vpc.dhcp", dat, "dhcp.relay and dhcp.enable exclude each other; set only one");
  }
  if (!text(dhcp.relay) && text(dhcp.relayVPC)) {
    report("hedgehog.vpc.dhcp", childPath(dat, "relayVPC"), "dhcp.relayVPC needs dhcp.relay to be set");
  }
  if (dhcp.enable !== true) {
    if (dhcp.options !== undefined || dhcp.range !== undefined || Object.keys(obj(dhcp.static)).length) {
      report(
        "hedgehog.vpc.dhcp",
        dat,
        "dhcp.range, dhcp.options and dhcp.static only apply with dhcp.enable: true; enable DHCP or remove them",
      );
    }
  } else {
    const r = obj(dhcp.range);
    const bounds: number[] = [];
    for (const end of ["start", "end"] as const) {
      if (r[end] === undefined) continue;
      const ip = parseIPv4(r[end]);
      if (ip === undefined || !cidrContains(cidr, ip) || ip === cidr.network || ip === gateway) {
        report(
          "hedgehog.vpc.dhcp",
          childPath(childPath(dat, "range"), end),
          `dhcp range ${end} ${
            JSON.stringify(r[end])
          } must be a host address in ${range}, not the subnet or gateway address`,
        );
      } else bounds.push(ip);
    }
    if (bounds.length === 2 && bounds[0] >= bounds[1]) {
      report("hedgehog.vpc.dhcp", childPath(dat, "range"), "dhcp range start must come before its end");
    }
    const mtu = obj(dhcp.options).interfaceMTU;
    if (mtu !== undefined && (int(mtu) === undefined || (mtu as number) < 96 || (mtu as number) > 9036)) {
      report(
        "hedgehog.vpc.dhcp",
        childPath(dat, "options.interfaceMTU"),
        "interfaceMTU must be between 96 and 9036",
      );
    }
    checkDhcpOptions(obj(dhcp.options), cidr, childPath(dat, "options"), report);
    const owners = new Map<number, string>();
    for (const [mac, st] of Object.entries(obj(dhcp.static))) {
      const sat = childPath(childPath(dat, "static"), mac);
      if (parseMac(mac) === undefined) {
        report(
          "hedgehog.vpc.dhcp-static",
          sat,
          `static entry key ${JSON.stringify(mac)} is not a MAC address; use e.g. aa:bb:cc:00:11:22`,
        );
      }
      const ip = parseIPv4(obj(st).ip);
      if (ip === undefined || !cidrContains(cidr, ip) || ip === cidr.network || ip === cidr.broadcast) {
        report(
          "hedgehog.vpc.dhcp-static",
          sat,
          `static IP ${JSON.stringify(obj(st).ip)} for ${mac} must be a host address in ${range}`,
        );
        continue;
      }
      if (ip === gateway) {
        report("hedgehog.vpc.dhcp-static", sat, `static IP ${obj(st).ip} for ${mac} is the subnet's gateway`);
      }
      const prior = owners.get(ip);
      if (prior !== undefined) {
        report(
          "hedgehog.vpc.dhcp-static",
          sat,
          `static IP ${obj(st).ip} is already assigned to ${prior}; each static IP goes to one MAC`,
        );
      } else owners.set(ip, mac);
    }
  }
  return cidr;
}

/** True for an IPv4 or IPv6 address without prefix length (what Go's `netip.ParseAddr` accepts, zones aside). */
export function isIpAddress(v: unknown): boolean {
  if (parseIPv4(v) !== undefined) return true;
  if (typeof v !== "string" || !v.includes(":") || /[^0-9A-Fa-f:.]/.test(v)) return false;
  try {
    new URL(`http://[${v}]/`);
    return true;
  } catch {
    return false;
  }
}

function checkDhcpOptions(opts: Record<string, unknown>, cidr: Cidr, at: string, report: Report): void {
  for (const f of ["dnsServers", "timeServers"]) {
    list(opts[f]).forEach((v, i) => {
      if (!isIpAddress(v)) {
        report(
          "hedgehog.vpc.dhcp-servers",
          indexPath(childPath(at, f), i),
          `${JSON.stringify(v)} is not an IP address; ${f} lists addresses such as 1.1.1.1`,
        );
      }
    });
  }
  list(opts.advertisedRoutes).forEach((r, i) => {
    const route = obj(r);
    const rat = indexPath(childPath(at, "advertisedRoutes"), i);
    if (!parseCidr(route.destination)) {
      report(
        "hedgehog.vpc.dhcp-routes",
        childPath(rat, "destination"),
        `advertised route destination ${
          JSON.stringify(route.destination)
        } must be a prefix, e.g. 10.12.10.0/24`,
      );
    }
    const gw = parseIPv4(route.gateway);
    if (gw === undefined || !cidrContains(cidr, gw)) {
      report(
        "hedgehog.vpc.dhcp-routes",
        childPath(rat, "gateway"),
        `advertised route gateway ${
          JSON.stringify(route.gateway)
        } must be an address inside subnet ${cidr.text}`,
      );
    }
  });
}

function checkVpc(o: KubeObject, report: Report, ctx: RuleContext): void {
  const spec = obj(o.spec);
  if (o.metadata.name.startsWith("ext.")) {
    report(
      "hedgehog.vpc.name-prefix",
      "metadata.name",
      `VPC name ${o.metadata.name} starts with "ext.", which the fabric reserves for externals; rename it`,
    );
  }
  const subnets = obj(spec.subnets);
  const entries = Object.entries(subnets);
  if (entries.length === 0) {
    report("hedgehog.vpc.subnets", "spec.subnets", "a VPC needs at least one subnet under spec.subnets");
  } else if (entries.length > 20) {
    report(
      "hedgehog.vpc.subnets",
      "spec.subnets",
      `a VPC has at most 20 subnets; this one has ${entries.length}`,
    );
  }
  if (spec.mode !== undefined && spec.mode !== "" && spec.mode !== "l3vni") {
    report(
      "hedgehog.vpc.mode",
      "spec.mode",
      `mode ${JSON.stringify(spec.mode)} is not supported; use "" (L2VNI) or "l3vni"`,
    );
  }
  const cidrs: [string, Cidr][] = [];
  const vlans = new Map<number, string>();
  for (const [name, raw] of entries) {
    const sn = obj(raw);
    const at = childPath("spec.subnets", name);
    const cidr = checkVpcSubnet(sn, at, name, report);
    if (cidr) cidrs.push([name, cidr]);
    if (sn.hostBGP === true) continue;
    const vlan = int(sn.vlan);
    if (vlan === undefined || vlan < 1 || vlan > 4094) {
      report("hedgehog.vpc.vlan", childPath(at, "vlan"), `subnet ${name} needs a vlan between 1 and 4094`);
      continue;
    }
    const other = vlans.get(vlan);
    if (other !== undefined) {
      report(
        "hedgehog.vpc.vlan-unique",
        childPath(at, "vlan"),
        `VLAN ${vlan} is already used by subnet ${other}; each subnet of a VPC needs its own VLAN`,
      );
    } else vlans.set(vlan, name);
  }
  for (let i = 0; i < cidrs.length; i++) {
    for (let j = i + 1; j < cidrs.length; j++) {
      if (cidrOverlaps(cidrs[i][1], cidrs[j][1])) {
        report(
          "hedgehog.vpc.subnet-overlap",
          childPath(childPath("spec.subnets", cidrs[j][0]), "subnet"),
          `subnet ${cidrs[j][1].text} overlaps ${cidrs[i][0]} (${
            cidrs[i][1].text
          }); subnets of a VPC must not overlap`,
        );
      }
    }
  }
  list(spec.permit).forEach((p, i) => {
    const items = list(p).map(String);
    const unknown = items.filter((s) => !(s in subnets));
    if (items.length < 2 || unknown.length || new Set(items).size !== items.length) {
      report(
        "hedgehog.vpc.permit",
        indexPath("spec.permit", i),
        `each permit policy lists at least two distinct subnets of this VPC (${
          names(Object.keys(subnets))
        })` +
          (unknown.length ? `; unknown: ${names(unknown)}` : ""),
      );
    }
  });
  list(spec.staticRoutes).forEach((r, i) => {
    const route = obj(r);
    const prefix = parseCidr(route.prefix);
    const hops = list(route.nextHops);
    if (
      !prefix || prefix.addr !== prefix.network || hops.length === 0 ||
      hops.some((h) => parseIPv4(h) === undefined)
    ) {
      report(
        "hedgehog.vpc.static-route",
        indexPath("spec.staticRoutes", i),
        "a static route needs a canonical prefix (e.g. 10.42.0.0/24) and at least one next hop IPv4 address",
      );
    }
  });
  for (const [name, raw] of entries) {
    const relayVpc = text(obj(obj(raw).dhcp).relayVPC);
    const rat = childPath(childPath(childPath("spec.subnets", name), "dhcp"), "relayVPC");
    if (relayVpc) checkRef(ctx, report, rat, VPC_GROUP, "VPC", relayVpc);
  }
  const ipns = checkRef(
    ctx,
    report,
    "spec.ipv4Namespace",
    VPC_GROUP,
    "IPv4Namespace",
    text(spec.ipv4Namespace) ?? "default",
  );
  if (ipns) {
    const blocks = list(obj(ipns.spec).subnets).map(parseCidr).filter((c): c is Cidr => !!c);
    for (const [name, c] of cidrs) {
      if (!blocks.some((b) => cidrWithin(c, b))) {
        report(
          "hedgehog.vpc.ipv4-namespace",
          childPath(childPath("spec.subnets", name), "subnet"),
          `subnet ${c.text} is outside IPv4Namespace ${ipns.metadata.name}; use a block within ${
            names(blocks.map((b) => b.text))
          }`,
        );
      }
    }
  }
  const vlanns = checkRef(
    ctx,
    report,
    "spec.vlanNamespace",
    WIRING_GROUP,
    "VLANNamespace",
    text(spec.vlanNamespace) ?? "default",
  );
  if (vlanns) {
    const ranges = list(obj(vlanns.spec).ranges).map(obj);
    for (const [vlan, name] of vlans) {
      if (!ranges.some((r) => vlan >= (int(r.from) ?? 1) && vlan <= (int(r.to) ?? 0))) {
        report(
          "hedgehog.vpc.vlan-namespace",
          childPath(childPath("spec.subnets", name), "vlan"),
          `VLAN ${vlan} is outside VLANNamespace ${vlanns.metadata.name}; use one of ${
            names(ranges.map((r) => `${r.from}-${r.to}`))
          }`,
        );
      }
    }
  }
}

function checkVpcPeering(o: KubeObject, report: Report, ctx: RuleContext): void {
  const spec = obj(o.spec);
  if (text(spec.remote)) {
    report(
      "hedgehog.vpcpeering.remote",
      "spec.remote",
      "spec.remote is deprecated and no longer supported; remove it",
    );
  }
  const all = new Set<string>();
  let entriesOk = true;
  const permits = list(spec.permit);
  permits.forEach((p, i) => {
    const vpcs = Object.keys(obj(p));
    vpcs.forEach((v) => all.add(v));
    if (vpcs.length !== 2) {
      entriesOk = false;
      report(
        "hedgehog.vpcpeering.two-vpcs",
        indexPath("spec.permit", i),
        `this permit entry names ${vpcs.length} VPC(s)${vpcs.length ? ` (${names(vpcs)})` : ""}; ` +
          "each entry must name exactly two VPCs, e.g. {vpc-1: {}, vpc-2: {}}",
      );
    }
  });
  if (entriesOk && all.size !== 2 && permits.length) {
    report(
      "hedgehog.vpcpeering.two-vpcs",
      "spec.permit",
      `the permit entries name ${all.size} VPCs (${names([...all])}); a VPCPeering connects exactly two VPCs`,
    );
  }
  if (!ctx.lookup) return;
  const vpcs = new Map<string, KubeObject | undefined>();
  for (const name of all) vpcs.set(name, checkRef(ctx, report, "spec.permit", VPC_GROUP, "VPC", name));
  const pair = [...vpcs.values()];
  if (pair.length === 2 && pair[0] && pair[1]) {
    for (const f of ["ipv4Namespace", "vlanNamespace"]) {
      const [a, b] = pair.map((v) => text(obj(v!.spec)[f]) ?? "default");
      if (a !== b) {
        report(
          "hedgehog.vpcpeering.namespaces",
          "spec.permit",
          `the peered VPCs are in different ${f}s (${pair[0].metadata.name}: ${a}, ${
            pair[1].metadata.name
          }: ${b}); peered VPCs share both namespaces`,
        );
      }
    }
  }
  permits.forEach((p, i) => {
    for (const [vpc, peer] of Object.entries(obj(p))) {
      const found = vpcs.get(vpc);
      if (!found) continue;
      const own = obj(obj(found.spec).subnets);
      for (const s of list(obj(peer).subnets)) {
        if (typeof s !== "string" || !(s in own)) {
          report(
            "hedgehog.vpcpeering.subnets",
            childPath(indexPath("spec.permit", i), vpc),
            `subnet ${JSON.stringify(s)} is not a subnet of VPC ${vpc}; use one of ${
              names(Object.keys(own))
            }`,
          );
        }
      }
    }
  });
}

function checkIPv4Namespace(o: KubeObject, report: Report): void {
  const seen: Cidr[] = [];
  const count = list(obj(o.spec).subnets).length;
  if (count > 10) {
    report(
      "hedgehog.ipv4namespace.subnets",
      "spec.subnets",
      `an IPv4Namespace has at most 10 subnets; this one has ${count}`,
    );
  }
  list(obj(o.spec).subnets).forEach((s, i) => {
    const c = parseCidr(s);
    const at = indexPath("spec.subnets", i);
    if (!c) {
      report(
        "hedgehog.ipv4namespace.subnets",
        at,
        `${JSON.stringify(s)} is not an IPv4 CIDR such as 10.0.0.0/16`,
      );
      return;
    }
    const clash = seen.find((x) => cidrOverlaps(x, c));
    if (clash) {
      report(
        "hedgehog.ipv4namespace.subnets",
        at,
        `${c.text} overlaps ${clash.text}; the subnets must not overlap`,
      );
    }
    seen.push(c);
  });
}

function checkStaticExternal(
  st: Record<string, unknown>,
  spec: Record<string, unknown>,
  report: Report,
): void {
  for (const f of ["inboundCommunity", "outboundCommunity"]) {
    if (text(spec[f])) {
      report(
        "hedgehog.external.static",
        childPath("spec", f),
        `${f} must be empty for a static External (no BGP); remove it`,
      );
    }
  }
  const prefixes = list(st.prefixes);
  if (!prefixes.length) {
    report(
      "hedgehog.external.static",
      "spec.static.prefixes",
      "a static External lists at least one prefix reachable through it, e.g. 0.0.0.0/0",
    );
  }
  const seen: Cidr[] = [];
  prefixes.forEach((p, i) => {
    const at = indexPath("spec.static.prefixes", i);
    const c = parseCidr(p);
    if (!c) {
      report("hedgehog.external.static", at, `${JSON.stringify(p)} is not a prefix such as 10.99.0.0/16`);
      return;
    }
    const clash = seen.find((x) => cidrOverlaps(x, c));
    if (clash) {
      report(
        "hedgehog.external.static",
        at,
        `prefix ${c.text} overlaps ${clash.text}; static prefixes must not overlap`,
      );
    }
    seen.push(c);
  });
}

function checkExternal(o: KubeObject, report: Report, ctx: RuleContext): void {
  const spec = obj(o.spec);
  // ipv4Namespace is required, but the defaulting layer has filled it in ("default") when it was empty.
  checkRef(ctx, report, "spec.ipv4Namespace", VPC_GROUP, "IPv4Namespace", text(spec.ipv4Namespace));
  if (spec.static !== undefined && spec.static !== null) {
    checkStaticExternal(obj(spec.static), spec, report);
    return;
  }
  for (const f of ["inboundCommunity", "outboundCommunity"] as const) {
    const v = spec[f];
    if (v === undefined || v === "") continue;
    const m = typeof v === "string" ? /^(\d{1,5}):(\d{1,5})$/.exec(v) : null;
    if (!m || Number(m[1]) > 65535 || Number(m[2]) > 65535) {
      report(
        "hedgehog.external.community",
        childPath("spec", f),
        `${f} must be a BGP community "<0-65535>:<0-65535>", e.g. 65102:5000`,
      );
    }
  }
}

function checkExternalAttachment(o: KubeObject, report: Report, ctx: RuleContext): void {
  const spec = obj(o.spec);
  for (
    const [f, kind, group] of [["connection", "Connection", WIRING_GROUP], [
      "external",
      "External",
      VPC_GROUP,
    ]]
  ) {
    if (!text(spec[f])) {
      report(
        "hedgehog.externalattachment.refs",
        childPath("spec", f),
        `spec.${f} is required: the ${kind} this attachment uses`,
      );
    } else checkRef(ctx, report, childPath("spec", f), group, kind, text(spec[f]));
  }
  const neighbor = obj(spec.neighbor);
  const sw = obj(spec.switch);
  if (spec.static === undefined) {
    if (parseIPv4(neighbor.ip) === undefined) {
      report(
        "hedgehog.externalattachment.bgp",
        "spec.neighbor.ip",
        "neighbor.ip must be the IPv4 address of the BGP neighbor (no prefix length)",
      );
    }
    if (!(int(neighbor.asn)! > 0)) {
      report("hedgehog.externalattachment.bgp", "spec.neighbor.asn", "neighbor.asn must be a positive ASN");
    }
    if (!parseCidr(sw.ip)) {
      report(
        "hedgehog.externalattachment.bgp",
        "spec.switch.ip",
        "switch.ip must be an IPv4 address with prefix length, e.g. 100.100.0.6/24",
      );
    }
  }
  if (spec.static !== undefined && spec.static !== null) {
    const st = obj(spec.static);
    const bad = (path: string, message: string) =>
      report("hedgehog.externalattachment.static", path, message);
    if (text(sw.ip) || int(sw.vlan)) {
      bad("spec.switch", "switch parameters must not be set for a static attachment");
    }
    if (text(neighbor.ip) || int(neighbor.asn)) {
      bad("spec.neighbor", "neighbor parameters must not be set for a static attachment (no BGP)");
    }
    if (!isIpAddress(st.remoteIP)) {
      bad("spec.static.remoteIP", "static.remoteIP must be the IP address of the external's port (next hop)");
    }
    if (!!text(st.ip) === (st.proxy === true)) {
      bad(
        "spec.static",
        "set exactly one of static.ip (the switch's address with prefix length) or static.proxy: true",
      );
    } else if (text(st.ip) && !parseCidr(st.ip)) {
      bad("spec.static.ip", "static.ip must be an IPv4 address with prefix length, e.g. 192.168.30.5/24");
    }
  }
  for (
    const [at, v] of [["spec.switch.vlan", sw.vlan], ["spec.static.vlan", obj(spec.static).vlan]] as const
  ) {
    if (v !== undefined && (int(v) === undefined || (v as number) < 0 || (v as number) > 4094)) {
      report("hedgehog.externalattachment.vlan", at, "vlan must be 0 (untagged) or a VLAN id up to 4094");
    }
  }
}

function checkExternalPeering(o: KubeObject, report: Report, ctx: RuleContext): void {
  const permit = obj(obj(o.spec).permit);
  const vpc = obj(permit.vpc);
  const ext = obj(permit.external);
  if (!text(vpc.name)) {
    report(
      "hedgehog.externalpeering.refs",
      "spec.permit.vpc.name",
      "permit.vpc.name is required: the VPC to peer",
    );
  }
  if (!text(ext.name)) {
    report(
      "hedgehog.externalpeering.refs",
      "spec.permit.external.name",
      "permit.external.name is required: the External to peer with",
    );
  }
  list(ext.prefixes).forEach((p, i) => {
    if (!parseCidr(obj(p).prefix)) {
      report(
        "hedgehog.externalpeering.prefixes",
        indexPath("spec.permit.external.prefixes", i) + ".prefix",
        "prefix must be an IPv4 CIDR, e.g. 0.0.0.0/0",
      );
    }
  });
  const external = checkRef(ctx, report, "spec.permit.external.name", VPC_GROUP, "External", text(ext.name));
  const found = checkRef(ctx, report, "spec.permit.vpc.name", VPC_GROUP, "VPC", text(vpc.name));
  if (found && external) {
    const [a, b] = [found, external].map((x) => text(obj(x.spec).ipv4Namespace) ?? "default");
    if (a !== b) {
      report(
        "hedgehog.externalpeering.namespace",
        "spec.permit",
        `VPC ${vpc.name} is in IPv4Namespace ${a} but External ${ext.name} is in ${b}; they must share it`,
      );
    }
  }
  if (found) {
    const own = obj(obj(found.spec).subnets);
    list(vpc.subnets).forEach((s, i) => {
      if (typeof s !== "string" || !(s in own)) {
        report(
          "hedgehog.externalpeering.subnets",
          indexPath("spec.permit.vpc.subnets", i),
          `${JSON.stringify(s)} is not a subnet of VPC ${vpc.name}; use one of ${names(Object.keys(own))}`,
        );
      }
    });
  }
}

function checkVpcAttachment(o: KubeObject, report: Report, ctx: RuleContext): void {
  const spec = obj(o.spec);
  if (!text(spec.connection)) {
    report(
      "hedgehog.vpcattachment.connection",
      "spec.connection",
      "spec.connection is required: the Connection to attach",
    );
  } else checkRef(ctx, report, "spec.connection", WIRING_GROUP, "Connection", text(spec.connection));
  const m = typeof spec.subnet === "string" ? /^([^/]+)\/([^/]+)$/.exec(spec.subnet) : null;
  if (!m) {
    report(
      "hedgehog.vpcattachment.subnet",
      "spec.subnet",
      'spec.subnet must name "<vpc>/<subnet>", e.g. vpc-1/default',
    );
    return;
  }
  const vpc = checkRef(ctx, report, "spec.subnet", VPC_GROUP, "VPC", m[1]);
  if (vpc && !(m[2] in obj(obj(vpc.spec).subnets))) {
    report(
      "hedgehog.vpcattachment.subnet",
      "spec.subnet",
      `VPC ${m[1]} has no subnet ${m[2]}; use one of ${names(Object.keys(obj(obj(vpc.spec).subnets)))}`,
    );
  }
}

/** Checks one object of the vpc group. */
export function checkVpcGroup(o: KubeObject, report: Report, ctx: RuleContext): void {
  switch (o.kind) {
    case "VPC":
      return checkVpc(o, report, ctx);
    case "VPCPeering":
      return checkVpcPeering(o, report, ctx);
    case "IPv4Namespace":
      return checkIPv4Namespace(o, report);
    case "External":
      return checkExternal(o, report, ctx);
    case "ExternalAttachment":
      return checkExternalAttachment(o, report, ctx);
    case "ExternalPeering":
      return checkExternalPeering(o, report, ctx);
    case "VPCAttachment":
      return checkVpcAttachment(o, report, ctx);
  }
}
