/**
 * The directory-wide rule cases on the spine-leaf fixture (`spine_leaf.yaml`): each changes one document
 * (or adds/removes some) so that exactly one of the cluster's directory-wide checks rejects it (or warns).
 * Used by `validate_directory_test.ts` (each rule fires) and `plan_recheck_test.ts` (planning shortcuts give
 * the same plan on every case).
 */

/** One case: the document changed and the finding expected. */
export interface Case {
  name: string;
  /** `Kind/name` of the document changed and checked. */
  target: string;
  // deno-lint-ignore no-explicit-any
  mutate: (o: any) => void;
  /** `Kind/name` of the document validated, when not the changed one. */
  check?: string;
  rule: string;
  path: string;
  severity?: "error" | "warning";
  /** Documents added to the fabric (YAML). */
  add?: string[];
  /** `Kind/name` of documents removed from the fabric. */
  remove?: string[];
}


const SERVER_05 = `
apiVersion: wiring.githedgehog.com/v1beta1
kind: Server
metadata:
  name: server-05
spec:
  description: server-05
`;

const MESH = `
apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: leaf-01--mesh--leaf-03
spec:
  mesh:
    links:
      - leaf1: { port: leaf-01/E1/52, ip: 172.30.129.0/31 }
        leaf2: { port: leaf-03/E1/51, ip: 172.30.129.1/31 }
`;

/** Every case; each directory-wide rule has at least one. */
export const CASES: Case[] = [
  {
    name: "a port already used by another Connection",
    target: "Connection/server-02--unbundled--leaf-03",
    mutate: (o) => (o.spec.unbundled.link.switch.port = "leaf-03/E1/2"),
    rule: "hedgehog.connection.port-in-use",
    path: "spec.unbundled.link.switch.port",
  },
  {
    name: "a breakout port whose first lane another Connection uses (E1/52 is E1/52/1)",
    target: "Connection/server-04--unbundled--leaf-03",
    mutate: (o) => (o.spec.unbundled.link.switch.port = "leaf-03/E1/52"),
    rule: "hedgehog.connection.port-in-use",
    path: "spec.unbundled.link.switch.port",
    add: [
      `
apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: server-05--unbundled--leaf-03
spec:
  unbundled:
    link:
      server: { port: server-05/enp2s1 }
      switch: { port: leaf-03/E1/52/1 }
`,
      SERVER_05,
    ],
  },
  {
    name: "a fabric link IP that is not a /31",
    target: "Connection/spine-01--fabric--leaf-01",
    mutate: (o) => (o.spec.fabric.links[0].leaf.ip = "172.30.128.1/30"),
    rule: "hedgehog.connection.link-ips",
    path: "spec.fabric.links[0].leaf.ip",
  },
  {
    name: "a fabric link IP another Connection uses",
    target: "Connection/spine-01--fabric--leaf-02",
    mutate: (o) => {
      o.spec.fabric.links[0].spine.ip = "172.30.128.0/31";
      o.spec.fabric.links[0].leaf.ip = "172.30.128.1/31";
    },
    rule: "hedgehog.connection.link-ips",
    path: "spec.fabric.links[0].spine.ip",
  },
  {
    name: "fabric link ends in different /31s",
    target: "Connection/spine-01--fabric--leaf-03",
    mutate: (o) => (o.spec.fabric.links[0].leaf.ip = "172.30.128.7/31"),
    rule: "hedgehog.connection.link-ips",
    path: "spec.fabric.links[0]",
  },
  {
    name: "a mesh link IP used twice in the same Connection",
    target: "Connection/leaf-01--mesh--leaf-03",
    mutate: (o) =>
      o.spec.mesh.links.push({
        leaf1: { port: "leaf-01/E1/8", ip: "172.30.129.0/31" },
        leaf2: { port: "leaf-03/E1/8", ip: "172.30.129.1/31" },
      }),
    rule: "hedgehog.connection.link-ips",
    path: "spec.mesh.links[1].leaf1.ip",
    add: [MESH],
  },
  {
    name: "a gateway link IP a fabric link uses",
    target: "Connection/spine-01--gateway--gateway-1",
    mutate: (o) => (o.spec.gateway.links[0].switch.ip = "172.30.128.4/31"),
    rule: "hedgehog.connection.link-ips",
    path: "spec.gateway.links[0].switch.ip",
    add: [`
apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: spine-01--gateway--gateway-1
spec:
  gateway:
    links:
      - switch: { port: spine-01/E1/4, ip: 172.30.128.6/31 }
        gateway: { port: gateway-1/enp2s1, ip: 172.30.128.7/31 }
`],
  },
  {
    name: "a VPC subnet inside a subnet of another VPC of the same IPv4Namespace",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.subnet = "10.0.1.128/25"),
    rule: "hedgehog.vpc.subnet-conflict",
    path: "spec.subnets.default.subnet",
  },
  {
    name: "a VPC subnet containing a subnet of another VPC",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.subnet = "10.0.0.0/20"),
    rule: "hedgehog.vpc.subnet-conflict",
    path: "spec.subnets.default.subnet",
  },
  {
    name: "a VPC VLAN another VPC of the same VLANNamespace uses",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.vlan = 1011),
    rule: "hedgehog.vpc.vlan-conflict",
    path: "spec.subnets.default.vlan",
  },
  {
    name: "a p2p-link annotation that is not a /31",
    target: "VPCAttachment/server-02--unbundled--leaf-03--vpc-3--bgp",
    mutate: (o) => (o.metadata.annotations["fabric.githedgehog.com/p2p-link"] = "10.0.3.0/30"),
    rule: "hedgehog.vpcattachment.p2p-link",
    path: 'metadata.annotations["fabric.githedgehog.com/p2p-link"]',
  },
  {
    name: "a p2p-link annotation that is empty",
    target: "VPCAttachment/server-02--unbundled--leaf-03--vpc-3--bgp",
    mutate: (o) => (o.metadata.annotations["fabric.githedgehog.com/p2p-link"] = ""),
    rule: "hedgehog.vpcattachment.p2p-link",
    path: 'metadata.annotations["fabric.githedgehog.com/p2p-link"]',
  },
  {
    name: "a VPC attached to an external Connection",
    target: "VPCAttachment/server-03--bundled--leaf-03--vpc-1--backend",
    mutate: (o) => (o.spec.connection = "leaf-03--external"),
    rule: "hedgehog.vpcattachment.connection-type",
    path: "spec.connection",
  },
  {
    name: "an L3VNI VPC attached to an ESLAG Connection",
    target: "VPCAttachment/server-05--eslag--leaf-01--leaf-02--vpc-1",
    mutate: (o) => (o.spec.subnet = "vpc-2/default"),
    rule: "hedgehog.vpcattachment.connection-type",
    path: "spec.connection",
    add: [
      SERVER_05,
      `
apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: server-05--eslag--leaf-01--leaf-02
spec:
  eslag:
    links:
      - server: { port: server-05/enp2s1 }
        switch: { port: leaf-01/E1/2 }
      - server: { port: server-05/enp2s2 }
        switch: { port: leaf-02/E1/2 }
`,
      `
apiVersion: vpc.githedgehog.com/v1beta1
kind: VPCAttachment
metadata:
  name: server-05--eslag--leaf-01--leaf-02--vpc-1
spec:
  connection: server-05--eslag--leaf-01--leaf-02
  subnet: vpc-1/default
`,
    ],
  },
  {
    name: "a hostBGP subnet attached over a bundled Connection",
    target: "VPCAttachment/server-02--unbundled--leaf-03--vpc-3--bgp",
    mutate: (o) => (o.spec.connection = "server-03--bundled--leaf-03"),
    rule: "hedgehog.vpcattachment.host-bgp",
    path: "spec.connection",
  },
  {
    name: "a hostBGP subnet attached to an MCLAG peer switch",
    target: "VPCAttachment/server-02--unbundled--leaf-03--vpc-3--bgp",
    mutate: (o) => (o.spec.connection = "server-06--unbundled--leaf-01"),
    rule: "hedgehog.vpcattachment.host-bgp",
    path: "spec.connection",
    add: [`
apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: server-06--unbundled--leaf-01
spec:
  unbundled:
    link:
      server: { port: server-01/enp2s9 }
      switch: { port: leaf-01/E1/3 }
`],
  },
  {
    name: "a switch without the VPC's VLANNamespace",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.vlanNamespaces = ["tenant-b"]),
    check: "VPCAttachment/server-03--bundled--leaf-03--vpc-2",
    rule: "hedgehog.vpcattachment.switch-vlan-namespace",
    path: "spec.connection",
  },
  {
    name: "an L2VNI VPC on a switch whose profile has no l2vni",
    target: "SwitchProfile/dell-s5248f-on",
    mutate: (o) => delete o.spec.features.l2vni,
    check: "VPCAttachment/server-01--mclag--leaf-01--leaf-02--vpc-1--default",
    rule: "hedgehog.vpcattachment.switch-features",
    path: "spec.connection",
  },
  {
    name: "a VPC attachment whose switch profile is not in the directory (warning)",
    target: "VPCAttachment/server-01--mclag--leaf-01--leaf-02--vpc-1--default",
    mutate: () => {},
    remove: ["SwitchProfile/dell-s5248f-on"],
    rule: "hedgehog.switchprofile.missing",
    path: "spec.connection",
    severity: "warning",
  },
  {
    name: "a Connection attached to the same subnet twice",
    target: "VPCAttachment/server-03--bundled--leaf-03--vpc-1--backend",
    mutate: (o) => (o.spec.subnet = "vpc-2/default"),
    rule: "hedgehog.vpcattachment.duplicate",
    path: "spec.subnet",
  },
  {
    name: "two native-VLAN attachments of one Connection",
    target: "VPCAttachment/server-03--bundled--leaf-03--vpc-1--backend",
    mutate: (o) => (o.spec.nativeVLAN = true),
    rule: "hedgehog.vpcattachment.duplicate",
    path: "spec.nativeVLAN",
  },
  {
    name: "an inbound ACL statement with a reserved sequence number",
    target: "ExternalAttachment/ext-1--leaf-03",
    mutate: (o) => (o.spec.inboundACL.statements[0].seq = 5),
    rule: "hedgehog.externalattachment.inbound-acl",
    path: "spec.inboundACL.statements[0].seq",
  },
  {
    name: "inbound ACL statements with the same sequence number",
    target: "ExternalAttachment/ext-1--leaf-03",
    mutate: (o) => (o.spec.inboundACL.statements[1].seq = 10),
    rule: "hedgehog.externalattachment.inbound-acl",
    path: "spec.inboundACL.statements[1].seq",
  },
  {
    name: "an inbound ACL source prefix that is not a CIDR",
    target: "ExternalAttachment/ext-1--leaf-03",
    mutate: (o) => (o.spec.inboundACL.statements[1].srcPrefix = "100.100.0.0"),
    rule: "hedgehog.externalattachment.inbound-acl",
    path: "spec.inboundACL.statements[1].srcPrefix",
  },
  {
    name: "inbound ACL TCP filters on a UDP statement",
    target: "ExternalAttachment/ext-1--leaf-03",
    mutate: (o) => (o.spec.inboundACL.statements[0].protocol = "udp"),
    rule: "hedgehog.externalattachment.inbound-acl",
    path: "spec.inboundACL.statements[0].tcpFilters",
  },
  {
    name: "inbound ACL contradicting TCP flags",
    target: "ExternalAttachment/ext-1--leaf-03",
    mutate: (o) => (o.spec.inboundACL.statements[0].tcpFilters.notSyn = true),
    rule: "hedgehog.externalattachment.inbound-acl",
    path: "spec.inboundACL.statements[0].tcpFilters",
  },
  {
    name: "an inbound ACL port range that ends before it begins",
    target: "ExternalAttachment/ext-1--leaf-03",
    mutate: (o) => (o.spec.inboundACL.statements[0].portRangeEnd = 80),
    rule: "hedgehog.externalattachment.inbound-acl",
    path: "spec.inboundACL.statements[0].portRangeEnd",
  },
  {
    name: "an inbound ACL ICMP type on an IP statement",
    target: "ExternalAttachment/ext-1--leaf-03",
    mutate: (o) => (o.spec.inboundACL.statements[2].icmpType = 0),
    rule: "hedgehog.externalattachment.inbound-acl",
    path: "spec.inboundACL.statements[2]",
  },
  {
    name: "a BGP attachment to a static External",
    target: "External/ext-1",
    mutate: (o) => {
      o.spec = { static: { prefixes: ["192.168.0.0/16"] } };
    },
    check: "ExternalAttachment/ext-1--leaf-03",
    rule: "hedgehog.externalattachment.static-match",
    path: "spec.external",
  },
  {
    name: "an ExternalAttachment on a Connection that is not external",
    target: "ExternalAttachment/ext-1--leaf-03",
    mutate: (o) => (o.spec.connection = "server-02--unbundled--leaf-03"),
    rule: "hedgehog.externalattachment.connection-type",
    path: "spec.connection",
  },
  {
    name: "two ExternalAttachments of one Connection with the same VLAN",
    target: "ExternalAttachment/ext-1--leaf-03--vlan-101",
    mutate: (o) => (o.spec.switch.vlan = 100),
    rule: "hedgehog.externalattachment.vlan-conflict",
    path: "spec.switch.vlan",
  },
  {
    name: "a switch whose VLANNamespaces overlap",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.vlanNamespaces = ["default", "tenant-b"]),
    rule: "hedgehog.switch.vlan-namespaces",
    path: "spec.vlanNamespaces",
    add: [`
apiVersion: wiring.githedgehog.com/v1beta1
kind: VLANNamespace
metadata:
  name: tenant-b
spec:
  ranges: [{ from: 2000, to: 2100 }]
`],
  },
  {
    name: "a switch in a SwitchGroup the directory lacks (warning)",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.groups = ["rack-9"]),
    rule: "hedgehog.ref.missing",
    path: "spec.groups",
    severity: "warning",
  },
  {
    name: "a port group speed the group's profile does not offer",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.portGroupSpeeds["2"] = "40G"),
    rule: "hedgehog.switch.profile-ports",
    path: "spec.portGroupSpeeds.2",
  },
  {
    name: "a speed for a port group the profile lacks",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.portGroupSpeeds["9"] = "10G"),
    rule: "hedgehog.switch.profile-ports",
    path: "spec.portGroupSpeeds.9",
  },
  {
    name: "a port speed the port does not support",
    target: "Switch/spine-01",
    mutate: (o) => (o.spec.portSpeeds["E1/65"] = "100G"),
    rule: "hedgehog.switch.profile-ports",
    path: 'spec.portSpeeds["E1/65"]',
  },
  {
    name: "a port speed on a port of a port group",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.portSpeeds = { "E1/1": "10G" }),
    rule: "hedgehog.switch.profile-ports",
    path: 'spec.portSpeeds["E1/1"]',
  },
  {
    name: "a breakout mode the port does not support",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.portBreakouts["E1/52"] = "8x10G"),
    rule: "hedgehog.switch.profile-ports",
    path: 'spec.portBreakouts["E1/52"]',
  },
  {
    name: "a breakout on a port that cannot break out",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.portBreakouts["E1/5"] = "4x25G"),
    rule: "hedgehog.switch.profile-ports",
    path: 'spec.portBreakouts["E1/5"]',
  },
  {
    name: "auto-negotiation on a port whose profile does not allow it",
    target: "Switch/spine-01",
    mutate: (o) => (o.spec.portAutoNegs["E1/65"] = true),
    rule: "hedgehog.switch.profile-ports",
    path: 'spec.portAutoNegs["E1/65"]',
  },
  {
    name: "auto-negotiation on a breakout lane the switch's mode does not have",
    target: "Switch/spine-01",
    mutate: (o) => (o.spec.portAutoNegs["E1/3/2"] = true),
    rule: "hedgehog.switch.profile-ports",
    path: 'spec.portAutoNegs["E1/3/2"]',
  },
  {
    name: "MCLAG redundancy on a profile without MCLAG",
    target: "SwitchProfile/dell-s5248f-on",
    mutate: (o) => (o.spec.features.mclag = false),
    check: "Switch/leaf-01",
    rule: "hedgehog.switch.profile-features",
    path: "spec.redundancy.type",
  },
  {
    name: "ECMP RoCE QPN hashing on a profile without it",
    target: "Switch/spine-01",
    mutate: (o) => (o.spec.ecmp = { roceQPN: true }),
    rule: "hedgehog.switch.profile-features",
    path: "spec.ecmp.roceQPN",
  },
  {
    name: "breakouts that overfill a pipeline",
    target: "Switch/spine-01",
    mutate: (o) => (o.spec.portBreakouts = { "E1/1": "8x100G", "E1/2": "8x100G" }),
    rule: "hedgehog.switch.max-ports",
    path: "spec.portBreakouts",
  },
  {
    name: "breakouts beyond the profile's maxPorts",
    target: "SwitchProfile/celestica-ds5000",
    mutate: (o) => (o.spec.maxPorts = 5),
    check: "Switch/spine-01",
    rule: "hedgehog.switch.max-ports",
    path: "spec.portBreakouts",
  },
  {
    name: "a switch whose SwitchProfile is not in the directory (warning)",
    target: "Switch/spine-01",
    mutate: () => {},
    remove: ["SwitchProfile/celestica-ds5000"],
    rule: "hedgehog.switchprofile.missing",
    path: "spec.profile",
    severity: "warning",
  },
  {
    name: "a Connection on a port the switch's profile does not have",
    target: "Connection/server-02--unbundled--leaf-03",
    mutate: (o) => (o.spec.unbundled.link.switch.port = "leaf-03/E1/9"),
    rule: "hedgehog.connection.profile-ports",
    path: "spec.unbundled.link.switch.port",
  },
  {
    name: "a Connection on a breakout lane of a port that is not broken out",
    target: "Connection/server-04--unbundled--leaf-03",
    mutate: (o) => (o.spec.unbundled.link.switch.port = "leaf-03/E1/50/2"),
    rule: "hedgehog.connection.profile-ports",
    path: "spec.unbundled.link.switch.port",
  },
  {
    name: "a Connection on a breakout lane beyond the switch's mode",
    target: "Connection/server-04--unbundled--leaf-03",
    mutate: (o) => (o.spec.unbundled.link.switch.port = "leaf-03/E1/52/5"),
    rule: "hedgehog.connection.profile-ports",
    path: "spec.unbundled.link.switch.port",
  },
  {
    name: "a SwitchProfile with an unknown NOS type",
    target: "SwitchProfile/dell-s5248f-on",
    mutate: (o) => (o.spec.nosType = "sonic"),
    rule: "hedgehog.switchprofile.spec",
    path: "spec.nosType",
  },
  {
    name: "a SwitchProfile without a display name",
    target: "SwitchProfile/dell-s5248f-on",
    mutate: (o) => delete o.spec.displayName,
    rule: "hedgehog.switchprofile.spec",
    path: "spec.displayName",
  },
  {
    name: "a SwitchProfile port in a port group it lacks",
    target: "SwitchProfile/dell-s5248f-on",
    mutate: (o) => (o.spec.ports["E1/8"].group = "9"),
    rule: "hedgehog.switchprofile.ports",
    path: 'spec.ports["E1/8"]',
  },
  {
    name: "a SwitchProfile with two ports of one label",
    target: "SwitchProfile/dell-s5248f-on",
    mutate: (o) => (o.spec.ports["E1/8"].label = "7"),
    rule: "hedgehog.switchprofile.ports",
    path: 'spec.ports["E1/8"]',
  },
  {
    name: "a SwitchProfile management port not named M<n>",
    target: "SwitchProfile/dell-s5248f-on",
    mutate: (o) => {
      o.spec.ports.Mgmt = o.spec.ports.M1;
      delete o.spec.ports.M1;
    },
    rule: "hedgehog.switchprofile.ports",
    path: "spec.ports.Mgmt",
  },
  {
    name: "a SwitchProfile breakout port without a base NOS name",
    target: "SwitchProfile/dell-s5248f-on",
    mutate: (o) => delete o.spec.ports["E1/52"].baseNOSName,
    rule: "hedgehog.switchprofile.ports",
    path: 'spec.ports["E1/52"]',
  },
  {
    name: "a SwitchProfile speed default outside its supported speeds",
    target: "SwitchProfile/dell-s5248f-on",
    mutate: (o) => (o.spec.portProfiles["SFP28-25G"].speed.default = "1G"),
    rule: "hedgehog.switchprofile.port-profiles",
    path: "spec.portProfiles.SFP28-25G",
  },
  {
    name: "a SwitchProfile breakout mode that splits into 3",
    target: "SwitchProfile/dell-s5248f-on",
    mutate: (
      o,
    ) => (o.spec.portProfiles["QSFP28-100G"].breakout.supported["3x25G"] = { offsets: ["0", "1", "2"] }),
    rule: "hedgehog.switchprofile.port-profiles",
    path: "spec.portProfiles.QSFP28-100G",
  },
  {
    name: "a management IP another switch uses",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.ip = "172.30.0.2/21"),
    rule: "hedgehog.switch.unique",
    path: "spec.ip",
  },
  {
    name: "a protocol IP another switch uses",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.protocolIP = "172.30.8.1/32"),
    rule: "hedgehog.switch.unique",
    path: "spec.protocolIP",
  },
  {
    name: "a protocol IP that is not a /32",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.protocolIP = "172.30.8.4/31"),
    rule: "hedgehog.switch.unique",
    path: "spec.protocolIP",
  },
  {
    name: "a leaf ASN another leaf (not its MCLAG peer) uses",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.asn = 65101),
    rule: "hedgehog.switch.unique",
    path: "spec.asn",
  },
  {
    name: "a VTEP IP another leaf uses",
    target: "Switch/leaf-03",
    mutate: (o) => (o.spec.vtepIP = "172.30.12.1/32"),
    rule: "hedgehog.switch.unique",
    path: "spec.vtepIP",
  },
  {
    name: "MCLAG peers with different ASNs",
    target: "Switch/leaf-02",
    mutate: (o) => (o.spec.asn = 65102),
    rule: "hedgehog.switch.unique",
    path: "spec.asn",
  },
  {
    name: "MCLAG peers with different VTEP IPs",
    target: "Switch/leaf-02",
    mutate: (o) => (o.spec.vtepIP = "172.30.12.2/32"),
    rule: "hedgehog.switch.unique",
    path: "spec.vtepIP",
  },
];
