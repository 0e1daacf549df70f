/**
 * The Hedgehog rule pack: what the Hedgehog fabric's admission webhooks reject although the CRD schemas
 * accept it. The rule list is the contract (ids are stable; the tests reject one example per rule).
 */
import { defaultHedgehog, HEDGEHOG_VERSION } from "./default_hedgehog.ts";

export { HEDGEHOG_VERSION };
import type { KubeObject } from "./object.ts";
import type { RuleInfo, RulePack } from "./rule_pack.ts";
import { checkVpcGroup, VPC_GROUP, WIRING_GROUP } from "./rules_hedgehog_vpc.ts";
import { checkWiringGroup } from "./rules_hedgehog_wiring.ts";
import { checkDirectory, DIRECTORY_RULES } from "./rules_hedgehog_directory.ts";
import { splitApiVersion } from "./object.ts";

const r = (id: string, kinds: string[], description: string): RuleInfo => ({ id, kinds, description });

/** Every rule of the pack. */
export const HEDGEHOG_RULES: readonly RuleInfo[] = [
  r("hedgehog.namespace", ["*"], "objects live in namespace default (or omit the namespace)"),
  r("hedgehog.name-length", ["VPC", "External", "IPv4Namespace"], "names are at most 11 characters"),
  r("hedgehog.ref.missing", ["*"], "referenced objects exist in the fabric directory (warning only)"),
  r(
    "hedgehog.defaults.dropped",
    ["VPC"],
    "no values the cluster's defaulting drops (DHCP range/options of a subnet without DHCP; warning only)",
  ),
  r("hedgehog.vpc.subnets", ["VPC"], "a VPC has 1-20 subnets"),
  r("hedgehog.vpc.name-prefix", ["VPC"], 'VPC names do not start with "ext." (reserved for externals)'),
  r("hedgehog.vpc.mode", ["VPC"], 'mode is "" (L2VNI) or "l3vni"'),
  r("hedgehog.vpc.subnet-cidr", ["VPC"], "each subnet is an IPv4 CIDR with prefix length <= 30"),
  r("hedgehog.vpc.gateway", ["VPC"], "a subnet's gateway is an address inside the subnet"),
  r("hedgehog.vpc.vlan", ["VPC"], "each (non-hostBGP) subnet has a VLAN 1-4094"),
  r("hedgehog.vpc.vlan-unique", ["VPC"], "the subnets of a VPC use distinct VLANs"),
  r("hedgehog.vpc.subnet-overlap", ["VPC"], "the subnets of a VPC do not overlap"),
  r(
    "hedgehog.vpc.dhcp",
    ["VPC"],
    "DHCP settings are consistent: relay xor server, relayVPC needs relay, range inside the subnet, MTU 96-9036",
  ),
  r("hedgehog.vpc.host-bgp-dhcp", ["VPC"], "a hostBGP subnet does not enable DHCP"),
  r("hedgehog.vpc.dhcp-relay", ["VPC"], "dhcp.relay is a prefix (address with prefix length)"),
  r(
    "hedgehog.vpc.dhcp-static",
    ["VPC"],
    "DHCP static entries: MAC keys, host IPs in the subnet, not the gateway, each IP once",
  ),
  r("hedgehog.vpc.dhcp-servers", ["VPC"], "DHCP dnsServers and timeServers are IP addresses"),
  r(
    "hedgehog.vpc.dhcp-routes",
    ["VPC"],
    "DHCP advertised routes have a prefix destination and a gateway inside the subnet",
  ),
  r("hedgehog.vpc.permit", ["VPC"], "each permit policy lists at least two distinct subnets of the VPC"),
  r("hedgehog.vpc.static-route", ["VPC"], "static routes have a canonical prefix and at least one next hop"),
  r("hedgehog.vpc.ipv4-namespace", ["VPC"], "VPC subnets lie within the subnets of their IPv4Namespace"),
  r("hedgehog.vpc.vlan-namespace", ["VPC"], "VPC VLANs lie within the ranges of their VLANNamespace"),
  r(
    "hedgehog.vpcpeering.two-vpcs",
    ["VPCPeering"],
    "each permit entry, and the peering as a whole, names exactly two VPCs",
  ),
  r("hedgehog.vpcpeering.remote", ["VPCPeering"], "spec.remote (deprecated) is not set"),
  r("hedgehog.vpcpeering.subnets", ["VPCPeering"], "permitted subnets exist in their VPC"),
  r(
    "hedgehog.vpcpeering.namespaces",
    ["VPCPeering"],
    "the peered VPCs share their IPv4Namespace and VLANNamespace",
  ),
  r("hedgehog.ipv4namespace.subnets", ["IPv4Namespace"], "1-10 subnets, IPv4 CIDRs that do not overlap"),
  r("hedgehog.external.community", ["External"], 'BGP communities are "<0-65535>:<0-65535>"'),
  r(
    "hedgehog.external.static",
    ["External"],
    "a static External has no communities and at least one prefix; prefixes parse and do not overlap",
  ),
  r(
    "hedgehog.externalattachment.static",
    ["ExternalAttachment"],
    "a static attachment has no switch/neighbor values, an IP remoteIP, and exactly one of ip (a CIDR) or proxy",
  ),
  r("hedgehog.externalattachment.refs", ["ExternalAttachment"], "connection and external are set"),
  r(
    "hedgehog.externalattachment.bgp",
    ["ExternalAttachment"],
    "a BGP attachment has neighbor IP and ASN and a switch IP with prefix",
  ),
  r("hedgehog.externalattachment.vlan", ["ExternalAttachment"], "VLANs are 0-4094"),
  r("hedgehog.externalpeering.refs", ["ExternalPeering"], "permit names a VPC and an External"),
  r("hedgehog.externalpeering.prefixes", ["ExternalPeering"], "permitted prefixes are IPv4 CIDRs"),
  r("hedgehog.externalpeering.subnets", ["ExternalPeering"], "permitted VPC subnets exist in the VPC"),
  r(
    "hedgehog.externalpeering.namespace",
    ["ExternalPeering"],
    "the VPC and the External share their IPv4Namespace",
  ),
  r("hedgehog.vpcattachment.connection", ["VPCAttachment"], "a VPCAttachment names its Connection"),
  r(
    "hedgehog.vpcattachment.subnet",
    ["VPCAttachment"],
    'subnet is "<vpc>/<subnet>" naming an existing subnet',
  ),
  r("hedgehog.connection.link-type", ["Connection"], "a Connection has exactly one link type"),
  r("hedgehog.connection.port-name", ["Connection"], 'ports are "<device>/<port>"'),
  r("hedgehog.connection.unique-ports", ["Connection"], "each port appears once in a Connection"),
  r(
    "hedgehog.connection.endpoints",
    ["Connection"],
    "each link type connects the devices it allows (mclag: one server, 1-2 switches; eslag: 1-4)",
  ),
  r(
    "hedgehog.connection.redundancy",
    ["Connection"],
    "the switches of an mclag/eslag/mclagDomain connection share one redundancy group of the matching type",
  ),
  r(
    "hedgehog.connection.static-external",
    ["Connection"],
    "staticExternal: switch ip is a CIDR holding nextHop; subnets canonical, not overlapping, 0.0.0.0/0 alone",
  ),
  r(
    "hedgehog.vlannamespace.ranges",
    ["VLANNamespace"],
    "ranges satisfy 1 <= from <= to <= 4094 and do not overlap",
  ),
  r("hedgehog.switch.addresses", ["Switch"], "ip, protocolIP and vtepIP carry a prefix length"),
  r("hedgehog.switch.required", ["Switch"], "asn, ip, protocolIP and profile are set"),
  r("hedgehog.switch.spine-vtep", ["Switch"], "spine switches have no vtepIP"),
  r("hedgehog.switch.redundancy", ["Switch"], "redundancy group and type are set together"),
  ...DIRECTORY_RULES,
];

const SHORT_NAMES = new Set(["VPC", "External", "IPv4Namespace"]);

/** The Hedgehog pack (`rule_packs: [hedgehog]`): the webhooks of githedgehog/fabric {@link HEDGEHOG_VERSION}. */
export const hedgehogPack: RulePack = {
  name: "hedgehog",
  rules: HEDGEHOG_RULES,
  defaults: defaultHedgehog,
  appliesTo(o: KubeObject) {
    const { group } = splitApiVersion(o.apiVersion);
    return group === VPC_GROUP || group === WIRING_GROUP;
  },
  check(o, report, ctx) {
    const ns = o.metadata.namespace;
    if (ns !== undefined && ns !== "default") {
      report(
        "hedgehog.namespace",
        "metadata.namespace",
        `namespace ${JSON.stringify(ns)} is not supported; use default (or omit it)`,
      );
    }
    if (SHORT_NAMES.has(o.kind) && o.metadata.name.length > 11) {
      report(
        "hedgehog.name-length",
        "metadata.name",
        `${o.kind} name ${o.metadata.name} has ${o.metadata.name.length} characters; use at most 11`,
      );
    }
    const { group } = splitApiVersion(o.apiVersion);
    if (group === VPC_GROUP) checkVpcGroup(o, report, ctx);
    else checkWiringGroup(o, report, ctx);
    checkDirectory(o, report, ctx);
  },
};
