/**
 * VPCAttachment and ExternalAttachment rules after githedgehog/fabric v0.126.0 `VPCAttachment.Validate` and
 * `ExternalAttachment.Validate`: the per-object checks (the p2p-link annotation, inbound ACL statements) and
 * the ones behind `kube != nil`, against the fabric directory (connection type, the switches' VLAN
 * namespaces and profile features, hostBGP, one attachment per subnet and one native VLAN per connection,
 * one VLAN per connection for externals). Attachments are indexed by connection once per context.
 */
import { childPath, indexPath } from "./finding.ts";
import { parseCidr } from "./ipv4.ts";
import type { KubeObject } from "./object.ts";
import type { Report, RuleContext, RuleInfo } from "./rule_pack.ts";
import { checkRef, VPC_GROUP, WIRING_GROUP } from "./rules_hedgehog_vpc.ts";
import { endpoints } from "./rules_hedgehog_wiring.ts";
import { linkTypeOf } from "./rules_hedgehog_links.ts";
import { int, list, names, obj, text } from "./rules_util.ts";
import { featuresOf, profileOf } from "./switch_profile.ts";

const r = (id: string, kinds: string[], description: string): RuleInfo => ({ id, kinds, description });

/** The rules of this module. */
export const ATTACH_RULES: readonly RuleInfo[] = [
  r(
    "hedgehog.vpcattachment.p2p-link",
    ["VPCAttachment"],
    "the fabric.githedgehog.com/p2p-link annotation, when set, is an IPv4 /31 prefix (v0.126.0 VPCAttachment.Validate)",
  ),
  r(
    "hedgehog.vpcattachment.connection-type",
    ["VPCAttachment"],
    "the Connection is unbundled, bundled, mclag or eslag, has switch endpoints, and an eslag one carries only an L2VNI VPC (v0.126.0)",
  ),
  r(
    "hedgehog.vpcattachment.host-bgp",
    ["VPCAttachment"],
    "a hostBGP subnet is attached over an unbundled Connection to a switch that is not an MCLAG peer (v0.126.0)",
  ),
  r(
    "hedgehog.vpcattachment.switch-vlan-namespace",
    ["VPCAttachment"],
    "every switch of the Connection has the VPC's VLANNamespace (v0.126.0)",
  ),
  r(
    "hedgehog.vpcattachment.switch-features",
    ["VPCAttachment"],
    "the switches' profiles support the VPC mode (L2VNI needs l2vni and l3vni, l3vni needs l3vni) (v0.126.0)",
  ),
  r(
    "hedgehog.vpcattachment.duplicate",
    ["VPCAttachment"],
    "a Connection is attached to a subnet once, and with nativeVLAN at most once (v0.126.0)",
  ),
  r(
    "hedgehog.externalattachment.inbound-acl",
    ["ExternalAttachment"],
    "inboundACL statements: seq >= 10 and unique, known action/protocol, prefixes CIDR or any, TCP/ICMP/port fields only with their protocol (v0.126.0 ACLSpec.Validate)",
  ),
  r(
    "hedgehog.externalattachment.static-match",
    ["ExternalAttachment"],
    "an attachment is static exactly when its External is static (v0.126.0)",
  ),
  r(
    "hedgehog.externalattachment.connection-type",
    ["ExternalAttachment"],
    "the Connection of an ExternalAttachment is an external Connection (v0.126.0)",
  ),
  r(
    "hedgehog.externalattachment.vlan-conflict",
    ["ExternalAttachment"],
    "the ExternalAttachments of one Connection use distinct VLANs (v0.126.0)",
  ),
];

const P2P_LINK = "fabric.githedgehog.com/p2p-link";
const ATTACHABLE = ["unbundled", "bundled", "mclag", "eslag"];

/** `<vpc>` → `<vpc>/default`, as the cluster's defaulting stores it. */
const fullSubnet = (s: unknown) => typeof s === "string" && s !== "" && !s.includes("/") ? `${s}/default` : s;

interface AttachIndex {
  vpc: Map<string, { name: string; subnet: unknown; native: boolean }[]>;
  ext: Map<string, { name: string; vlan: number }[]>;
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

const extVlan = (spec: Record<string, unknown>) =>
  int(spec.static !== undefined && spec.static !== null ? obj(spec.static).vlan : obj(spec.switch).vlan) ?? 0;

function buildIndex(ctx: RuleContext): AttachIndex {
  const index: AttachIndex = { vpc: new Map(), ext: new Map() };
  for (const a of ctx.list!(VPC_GROUP, "VPCAttachment")) {
    const spec = obj(a.spec);
    const conn = text(spec.connection);
    if (conn) {
      push(index.vpc, conn, {
        name: a.metadata.name,
        subnet: fullSubnet(spec.subnet),
        native: spec.nativeVLAN === true,
      });
    }
  }
  for (const a of ctx.list!(VPC_GROUP, "ExternalAttachment")) {
    const spec = obj(a.spec);
    const conn = text(spec.connection);
    if (conn) push(index.ext, conn, { name: a.metadata.name, vlan: extVlan(spec) });
  }
  return index;
}

const indexOf = (ctx: RuleContext) =>
  ctx.list && ctx.memo ? ctx.memo("hedgehog.attachments", () => buildIndex(ctx)) : undefined;

/** Checks one (defaulted) VPCAttachment. */
export function checkVpcAttachmentDirectory(o: KubeObject, report: Report, ctx: RuleContext): void {
  const annotations = o.metadata.annotations;
  if (annotations && Object.hasOwn(annotations, P2P_LINK)) {
    const v = annotations[P2P_LINK];
    const c = parseCidr(v);
    if (!c || c.len !== 31) {
      report(
        "hedgehog.vpcattachment.p2p-link",
        childPath("metadata.annotations", P2P_LINK),
        `annotation ${P2P_LINK} must be an IPv4 /31 prefix such as 10.0.3.0/31, got ${JSON.stringify(v)}`,
      );
    }
  }
  const spec = obj(o.spec);
  const connName = text(spec.connection);
  const m = typeof spec.subnet === "string" ? /^([^/]+)\/([^/]+)$/.exec(spec.subnet) : null;
  if (!ctx.lookup || !connName || !m) return;
  const vpc = ctx.lookup(VPC_GROUP, "VPC", m[1]);
  const subnet = vpc ? obj(obj(obj(vpc.spec).subnets)[m[2]]) : undefined;
  const conn = ctx.lookup(WIRING_GROUP, "Connection", connName);
  const index = indexOf(ctx);
  if (index) {
    for (const other of index.vpc.get(connName) ?? []) {
      if (other.name === o.metadata.name) continue;
      if (other.subnet === spec.subnet) {
        report(
          "hedgehog.vpcattachment.duplicate",
          "spec.subnet",
          `Connection ${connName} is already attached to ${spec.subnet} by VPCAttachment ${other.name}; attach a subnet to a Connection once`,
        );
      }
      if (other.native && spec.nativeVLAN === true) {
        report(
          "hedgehog.vpcattachment.duplicate",
          "spec.nativeVLAN",
          `Connection ${connName} already carries a native VLAN (VPCAttachment ${other.name}); at most one attachment of a Connection sets nativeVLAN`,
        );
      }
    }
  }
  if (!vpc || !subnet || !conn) return; // missing ones are hedgehog.ref.missing / vpcattachment.subnet
  const type = linkTypeOf(obj(conn.spec));
  if (!type) return;
  const mode = text(obj(vpc.spec).mode) ?? "";
  const hostBGP = subnet.hostBGP === true;
  const bad = (rule: string, path: string, message: string) => report(rule, path, message);
  if (!ATTACHABLE.includes(type)) {
    bad(
      "hedgehog.vpcattachment.connection-type",
      "spec.connection",
      `Connection ${connName} is ${type}; a VPC can be attached only to unbundled, bundled, mclag or eslag Connections`,
    );
    return;
  }
  if (type === "eslag" && mode !== "") {
    bad(
      "hedgehog.vpcattachment.connection-type",
      "spec.connection",
      `VPC ${
        m[1]
      } has mode ${mode}, which eslag Connection ${connName} does not support; attach an L2VNI VPC (mode unset)`,
    );
  }
  if (hostBGP && type !== "unbundled") {
    bad(
      "hedgehog.vpcattachment.host-bgp",
      "spec.connection",
      `subnet ${spec.subnet} is hostBGP; only unbundled Connections attach to it, ${connName} is ${type}`,
    );
  }
  const switches = [
    ...new Set(
      endpoints(obj(obj(conn.spec)[type]), "").filter((e) =>
        e.role === "switch" && typeof e.port === "string"
      )
        .map((e) => (e.port as string).slice(0, (e.port as string).indexOf("/"))),
    ),
  ];
  if (!switches.length) {
    bad(
      "hedgehog.vpcattachment.connection-type",
      "spec.connection",
      `Connection ${connName} has no switch ports`,
    );
    return;
  }
  const vlanNs = text(obj(vpc.spec).vlanNamespace) ?? "default";
  for (const name of switches) {
    const sw = checkRef(ctx, report, "spec.connection", WIRING_GROUP, "Switch", name);
    if (!sw) continue;
    const swSpec = obj(sw.spec);
    const swNs = list(swSpec.vlanNamespaces).length ? list(swSpec.vlanNamespaces) : ["default"];
    if (!swNs.includes(vlanNs)) {
      bad(
        "hedgehog.vpcattachment.switch-vlan-namespace",
        "spec.connection",
        `Switch ${name} of Connection ${connName} does not have VLANNamespace ${vlanNs} of VPC ${
          m[1]
        }; add it to the switch's vlanNamespaces`,
      );
    }
    const red = obj(swSpec.redundancy);
    if (hostBGP && text(red.group) && red.type === "mclag") {
      bad(
        "hedgehog.vpcattachment.host-bgp",
        "spec.connection",
        `Switch ${name} is an MCLAG peer (group ${red.group}); a hostBGP subnet cannot be attached to it`,
      );
    }
    const profile = profileOf(ctx, sw, report, "spec.connection", "the VPC mode support of its features is");
    if (!profile) continue;
    const f = featuresOf(profile);
    const ok = mode === "" ? f.l2vni && f.l3vni : f.l3vni;
    if (!ok) {
      bad(
        "hedgehog.vpcattachment.switch-features",
        "spec.connection",
        `VPC mode ${mode || "l2vni (default)"} of VPC ${
          m[1]
        } is not supported on SwitchProfile ${profile.metadata.name} of Switch ${name} (features: ${
          mode === "" ? "l2vni and l3vni needed" : "l3vni needed"
        })`,
      );
    }
  }
}

const ACL_ACTIONS = ["deny", "discard", "permit", "transit"];
const ACL_PROTOCOLS = ["ip", "tcp", "udp", "icmp"];
const TCP_FLAGS = ["fin", "syn", "rst", "psh", "ack", "urg"];
const ACL_MIN_SEQ = 10;

function checkInboundAcl(spec: Record<string, unknown>, report: Report): void {
  const seen = new Set<number>();
  list(obj(spec.inboundACL).statements).forEach((st, i) => {
    const s = obj(st);
    const at = indexPath("spec.inboundACL.statements", i);
    const bad = (field: string, message: string) =>
      report("hedgehog.externalattachment.inbound-acl", field ? childPath(at, field) : at, message);
    const seq = int(s.seq) ?? 0;
    if (seq < ACL_MIN_SEQ) {
      bad(
        "seq",
        `sequence number ${seq} is reserved for security rules; user statements use seq >= ${ACL_MIN_SEQ}`,
      );
    } else if (seen.has(seq)) {
      bad("seq", `sequence number ${seq} is used twice; each statement has its own seq`);
    }
    seen.add(seq);
    if (!ACL_ACTIONS.includes(s.action as string)) {
      bad("action", `action ${JSON.stringify(s.action)} is not one of ${names(ACL_ACTIONS)}`);
    }
    const proto = s.protocol as string;
    if (!ACL_PROTOCOLS.includes(proto)) {
      bad("protocol", `protocol ${JSON.stringify(s.protocol)} is not one of ${names(ACL_PROTOCOLS)}`);
    }
    for (const f of ["srcPrefix", "dstPrefix"]) {
      if (s[f] !== "any" && !parseCidr(s[f])) {
        bad(f, `${f} ${JSON.stringify(s[f])} must be an IPv4 CIDR such as 10.0.1.0/24, or "any"`);
      }
    }
    if (s.tcpFilters !== undefined && s.tcpFilters !== null) {
      const t = obj(s.tcpFilters);
      const flagOn = (f: string) => t[f] === true;
      const negOf = (f: string) => `not${f[0].toUpperCase()}${f.slice(1)}`;
      if (proto !== "tcp") bad("tcpFilters", "tcpFilters can only be used with protocol tcp");
      else if (flagOn("established") && TCP_FLAGS.some((f) => flagOn(f) || flagOn(negOf(f)))) {
        bad("tcpFilters", "established excludes the individual TCP flags; use one or the other");
      } else if (TCP_FLAGS.some((f) => flagOn(f) && flagOn(negOf(f)))) {
        bad(
          "tcpFilters",
          "a TCP flag and its negation (e.g. syn and notSyn) contradict each other; keep one",
        );
      }
    }
    if ((s.icmpType !== undefined || s.icmpCode !== undefined) && proto !== "icmp") {
      bad("", "icmpType/icmpCode can only be used with protocol icmp");
    }
    const begin = int(s.portRangeBegin) ?? 0;
    const end = int(s.portRangeEnd) ?? 0;
    if (begin > 0 || end > 0) {
      if (proto !== "tcp" && proto !== "udp") {
        bad("", "portRangeBegin/End can only be used with protocol tcp or udp");
      } else if (begin === 0) {
        bad("portRangeBegin", "portRangeBegin must be at least 1 when a port range is set");
      } else if (begin > end) bad("portRangeEnd", `portRangeEnd ${end} is below portRangeBegin ${begin}`);
    }
  });
}

/** Checks one (defaulted) ExternalAttachment. */
export function checkExternalAttachmentDirectory(o: KubeObject, report: Report, ctx: RuleContext): void {
  const spec = obj(o.spec);
  checkInboundAcl(spec, report);
  if (!ctx.lookup) return;
  const isStatic = spec.static !== undefined && spec.static !== null;
  const extName = text(spec.external);
  const ext = extName ? ctx.lookup(VPC_GROUP, "External", extName) : undefined;
  if (ext) {
    const extStatic = obj(ext.spec).static !== undefined && obj(ext.spec).static !== null;
    if (extStatic !== isStatic) {
      report(
        "hedgehog.externalattachment.static-match",
        isStatic ? "spec.static" : "spec.external",
        isStatic
          ? `the attachment is static but External ${extName} is not; drop spec.static or use a static External`
          : `External ${extName} is static but the attachment is not; add spec.static (remoteIP, ip or proxy)`,
      );
    }
  }
  const connName = text(spec.connection);
  if (!connName) return;
  const conn = ctx.lookup(WIRING_GROUP, "Connection", connName);
  const type = conn ? linkTypeOf(obj(conn.spec)) : undefined;
  if (type && type !== "external") {
    report(
      "hedgehog.externalattachment.connection-type",
      "spec.connection",
      `Connection ${connName} is ${type}; an ExternalAttachment uses an external Connection`,
    );
  }
  const index = indexOf(ctx);
  if (!index) return;
  const vlan = extVlan(spec);
  const other = (index.ext.get(connName) ?? []).find((a) => a.name !== o.metadata.name && a.vlan === vlan);
  if (other) {
    report(
      "hedgehog.externalattachment.vlan-conflict",
      isStatic ? "spec.static.vlan" : "spec.switch.vlan",
      `Connection ${connName} already has ExternalAttachment ${other.name} with VLAN ${vlan}; give each attachment of a Connection its own VLAN`,
    );
  }
}
