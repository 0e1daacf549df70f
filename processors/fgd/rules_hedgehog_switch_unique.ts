/**
 * The directory-checkable part of githedgehog/fabric v0.126.0 `Switch.HydrationValidation` (run by
 * `Switch.Validate` behind `kube != nil`): management IPs, protocol IPs and leaf VTEP IPs used once, leaf ASNs
 * used once — except by the two switches of an MCLAG pair, which share ASN and VTEP IP — and protocol/VTEP IPs
 * being /32s. Switches are indexed once per context.
 *
 * Offline (need the Fabricator config, `fabricCfg`): the management/protocol/VTEP subnets, the management
 * DHCP range, the control VIP, the leaf ASN range and spine ASN, and the VTEP/protocol IPs of Gateways.
 */
import { childPath } from "./finding.ts";
import { parseCidr } from "./ipv4.ts";
import type { KubeObject } from "./object.ts";
import type { Report, RuleContext, RuleInfo } from "./rule_pack.ts";
import { WIRING_GROUP } from "./rules_hedgehog_vpc.ts";
import { int, names, obj, text } from "./rules_util.ts";

/** The rules of this module. */
export const SWITCH_UNIQUE_RULES: readonly RuleInfo[] = [{
  id: "hedgehog.switch.unique",
  kinds: ["Switch"],
  description:
    "management, protocol and leaf VTEP IPs and leaf ASNs are used by one switch (an MCLAG pair shares ASN and VTEP IP); protocol and VTEP IPs are /32s (v0.126.0 Switch.HydrationValidation; subnets and ASN ranges are offline)",
}];

const LEAF_ROLES = new Set(["server-leaf", "border-leaf", "mixed-leaf"]);

interface SwitchIndex {
  mgmt: Map<number, string[]>;
  protocol: Map<string, string[]>;
  vtep: Map<string, string[]>;
  leafAsn: Map<number, string[]>;
  /** MCLAG switches by redundancy group. */
  mclag: Map<string, KubeObject[]>;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

function buildIndex(ctx: RuleContext): SwitchIndex {
  const index: SwitchIndex = {
    mgmt: new Map(),
    protocol: new Map(),
    vtep: new Map(),
    leafAsn: new Map(),
    mclag: new Map(),
  };
  for (const sw of ctx.list!(WIRING_GROUP, "Switch")) {
    const spec = obj(sw.spec);
    const name = sw.metadata.name;
    const ip = parseCidr(spec.ip);
    if (ip) push(index.mgmt, ip.addr, name);
    if (text(spec.protocolIP)) push(index.protocol, spec.protocolIP as string, name);
    if (text(spec.vtepIP)) push(index.vtep, spec.vtepIP as string, name);
    const asn = int(spec.asn);
    if (asn && LEAF_ROLES.has(spec.role as string)) push(index.leafAsn, asn, name);
    const red = obj(spec.redundancy);
    if (red.type === "mclag" && text(red.group)) push(index.mclag, red.group as string, sw);
  }
  return index;
}

const othersOf = (l: string[] | undefined, self: string) => (l ?? []).filter((n) => n !== self);

/** Checks one (defaulted) Switch against the other switches of the fabric. */
export function checkSwitchUnique(o: KubeObject, report: Report, ctx: RuleContext): void {
  const spec = obj(o.spec);
  const self = o.metadata.name;
  const bad = (field: string, message: string) =>
    report("hedgehog.switch.unique", childPath("spec", field), message);
  const leaf = LEAF_ROLES.has(spec.role as string);
  const proto = parseCidr(spec.protocolIP);
  if (proto && proto.len !== 32) bad("protocolIP", `protocolIP ${proto.text} must be a /32`);
  const vtep = parseCidr(spec.vtepIP);
  if (leaf && vtep && vtep.len !== 32) bad("vtepIP", `vtepIP ${vtep.text} must be a /32`);
  if (!ctx.list || !ctx.memo) return;
  const index = ctx.memo("hedgehog.switches", () => buildIndex(ctx));
  const used = (field: string, what: string, others: string[]) => {
    if (others.length) {
      bad(field, `${what} is already used by Switch ${names(others)}; each switch has its own`);
    }
  };
  const ip = parseCidr(spec.ip);
  if (ip) used("ip", `management IP ${ip.text}`, othersOf(index.mgmt.get(ip.addr), self));
  if (text(spec.protocolIP)) {
    used(
      "protocolIP",
      `protocol IP ${spec.protocolIP}`,
      othersOf(index.protocol.get(spec.protocolIP as string), self),
    );
  }
  if (!leaf) return;
  const red = obj(spec.redundancy);
  const peer = red.type === "mclag" && text(red.group)
    ? (index.mclag.get(red.group as string) ?? []).find((s) => s.metadata.name !== self)
    : undefined;
  const asn = int(spec.asn);
  if (peer) {
    const p = obj(peer.spec);
    if (asn !== undefined && int(p.asn) !== asn) {
      bad(
        "asn",
        `MCLAG peers share their ASN: ${self} has ${asn}, its peer ${peer.metadata.name} has ${p.asn}`,
      );
    }
    if (text(spec.vtepIP) && p.vtepIP !== spec.vtepIP) {
      bad(
        "vtepIP",
        `MCLAG peers share their VTEP IP: ${self} has ${spec.vtepIP}, its peer ${peer.metadata.name} has ${p.vtepIP}`,
      );
    }
    return;
  }
  if (asn) used("asn", `leaf ASN ${asn}`, othersOf(index.leafAsn.get(asn), self));
  if (text(spec.vtepIP)) {
    used("vtepIP", `VTEP IP ${spec.vtepIP}`, othersOf(index.vtep.get(spec.vtepIP as string), self));
  }
}
