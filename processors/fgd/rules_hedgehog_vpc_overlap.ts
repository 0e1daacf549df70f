/**
 * VPC rules across the fabric directory, after githedgehog/fabric v0.126.0 `VPC.Validate` (behind
 * `kube != nil`): the subnets of VPCs in one IPv4Namespace do not overlap, and a VLAN of a VLANNamespace is
 * used by one VPC (hostBGP subnets without a VLAN never collide). The VPCs are indexed once per context:
 * subnets by exact block (for the blocks containing a subnet: one lookup per prefix length in use) and sorted
 * by network address (for the blocks a subnet contains: a binary search), VLANs by number.
 */
import { childPath } from "./finding.ts";
import { type Cidr, parseCidr } from "./ipv4.ts";
import type { KubeObject } from "./object.ts";
import type { Report, RuleContext, RuleInfo } from "./rule_pack.ts";
import { VPC_GROUP } from "./rules_hedgehog_vpc.ts";
import { int, obj, text } from "./rules_util.ts";

/** The rules of this module. */
export const VPC_OVERLAP_RULES: readonly RuleInfo[] = [
  {
    id: "hedgehog.vpc.subnet-conflict",
    kinds: ["VPC"],
    description:
      "no subnet overlaps a subnet of another VPC in the same IPv4Namespace (v0.126.0 VPC.Validate)",
  },
  {
    id: "hedgehog.vpc.vlan-conflict",
    kinds: ["VPC"],
    description: "no VLAN is used by another VPC in the same VLANNamespace (v0.126.0 VPC.Validate)",
  },
];

interface Block {
  network: number;
  broadcast: number;
  text: string;
  vpc: string;
  subnet: string;
}

interface Blocks {
  /** Blocks by `network * 64 + length`. */
  exact: Map<number, Block[]>;
  /** The prefix lengths present, ascending (the only lengths worth probing for containing blocks). */
  lens: number[];
  /** All blocks, sorted by network address. */
  sorted: Block[];
}

interface VpcIndex {
  /** By IPv4Namespace. */
  subnets: Map<string, Blocks>;
  /** By VLANNamespace, then VLAN: the VPCs (and subnet) using it. */
  vlans: Map<string, Map<number, { vpc: string; subnet: string }[]>>;
}

const nsOf = (spec: Record<string, unknown>, field: string) => text(spec[field]) ?? "default";

function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

function buildIndex(ctx: RuleContext): VpcIndex {
  const index: VpcIndex = { subnets: new Map(), vlans: new Map() };
  for (const v of ctx.list!(VPC_GROUP, "VPC")) {
    const spec = obj(v.spec);
    const ipNs = nsOf(spec, "ipv4Namespace");
    const vlanNs = nsOf(spec, "vlanNamespace");
    let blocks = index.subnets.get(ipNs);
    if (!blocks) index.subnets.set(ipNs, blocks = { exact: new Map(), lens: [], sorted: [] });
    let vlans = index.vlans.get(vlanNs);
    if (!vlans) index.vlans.set(vlanNs, vlans = new Map());
    for (const [subnet, sn] of Object.entries(obj(spec.subnets))) {
      const s = obj(sn);
      const c = parseCidr(s.subnet);
      if (c) {
        const b: Block = {
          network: c.network,
          broadcast: c.broadcast,
          text: c.text,
          vpc: v.metadata.name,
          subnet,
        };
        const key = c.network * 64 + c.len;
        const at = blocks.exact.get(key);
        if (at) at.push(b);
        else blocks.exact.set(key, [b]);
        blocks.sorted.push(b);
        if (!blocks.lens.includes(c.len)) blocks.lens.push(c.len);
      }
      const vlan = int(s.vlan);
      if (vlan !== undefined && vlan !== 0) {
        const users = vlans.get(vlan);
        if (users) users.push({ vpc: v.metadata.name, subnet });
        else vlans.set(vlan, [{ vpc: v.metadata.name, subnet }]);
      }
    }
  }
  for (const b of index.subnets.values()) {
    b.sorted.sort((x, y) => x.network - y.network);
    b.lens.sort((x, y) => x - y);
  }
  return index;
}

/** A block of another VPC overlapping `c`: one containing it (or equal), else one inside it. */
function overlapping(
  blocks: Blocks,
  c: Cidr,
  self: string,
): Block | undefined {
  for (const len of blocks.lens) {
    if (len > c.len) break;
    const hit = blocks.exact.get(((c.network & maskOf(len)) >>> 0) * 64 + len)?.find((b) => b.vpc !== self);
    if (hit) return hit;
  }
  const s = blocks.sorted;
  let lo = 0, hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid].network < c.network) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < s.length && s[i].network <= c.broadcast; i++) if (s[i].vpc !== self) return s[i];
  return undefined;
}

/** Checks one (defaulted) VPC against the other VPCs of its namespaces. */
export function checkVpcOverlap(o: KubeObject, report: Report, ctx: RuleContext): void {
  if (!ctx.list || !ctx.memo) return;
  const index = ctx.memo("hedgehog.vpcs", () => buildIndex(ctx));
  const spec = obj(o.spec);
  const self = o.metadata.name;
  const ipNs = nsOf(spec, "ipv4Namespace");
  const vlanNs = nsOf(spec, "vlanNamespace");
  const blocks = index.subnets.get(ipNs);
  const vlans = index.vlans.get(vlanNs);
  for (const [name, sn] of Object.entries(obj(spec.subnets))) {
    const s = obj(sn);
    const at = childPath(childPath("spec.subnets", name), "subnet");
    const c = parseCidr(s.subnet);
    const hit = c && blocks ? overlapping(blocks, c, self) : undefined;
    if (hit) {
      report(
        "hedgehog.vpc.subnet-conflict",
        at,
        `subnet ${name} (${
          c!.text
        }) overlaps subnet ${hit.subnet} (${hit.text}) of VPC ${hit.vpc} in IPv4Namespace ${ipNs}; the VPCs of one IPv4Namespace use disjoint subnets`,
      );
    }
    const vlan = int(s.vlan);
    if (vlan === undefined || vlan === 0) continue; // no VLAN (hostBGP): nothing to collide on
    const other = vlans?.get(vlan)?.find((u) => u.vpc !== self);
    if (other) {
      report(
        "hedgehog.vpc.vlan-conflict",
        childPath(childPath("spec.subnets", name), "vlan"),
        `VLAN ${vlan} of subnet ${name} is already used by subnet ${other.subnet} of VPC ${other.vpc} in VLANNamespace ${vlanNs}; pick a VLAN no other VPC uses`,
      );
    }
  }
}
