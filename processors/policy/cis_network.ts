/**
 * CIS Google Cloud Platform Foundation Benchmark, section 3 (networking): default network (3.1), legacy
 * network (3.2), SSH and RDP open to the internet (3.6, 3.7), subnet flow logs (3.8).
 */
import { type Data, dataOf, fail, notEvaluated, pass, type Rule } from "./rule.ts";

const WORLD = new Set(["0.0.0.0/0", "::/0"]);

/** True when a firewall `allowed` entry opens TCP `port` (explicit port, a range, or all ports). */
export function allowsTcpPort(allowed: Data[], port: number): boolean {
  for (const a of allowed) {
    const proto = String(a.IPProtocol ?? a.ipProtocol ?? "").toLowerCase();
    if (proto !== "tcp" && proto !== "all" && proto !== "6") continue;
    const ports: string[] = Array.isArray(a.ports) ? a.ports.map(String) : [];
    if (ports.length === 0) return true;
    for (const p of ports) {
      const [lo, hi] = p.split("-").map(Number);
      if (port >= lo && port <= (Number.isNaN(hi) || hi === undefined ? lo : hi)) return true;
    }
  }
  return false;
}

function openToWorld(port: number, id: string, title: string, bench: string, service: string): Rule {
  return {
    id,
    title,
    severity: "high",
    benchmarks: [bench],
    assetTypes: ["compute.googleapis.com/Firewall"],
    evaluate(a) {
      const d = dataOf(a);
      if ((d.direction ?? "INGRESS") !== "INGRESS" || d.disabled === true) return null;
      // Every firewall has `allowed` or `denied`, and an ingress one a source: without them the data is cut.
      if (d.allowed === undefined && d.denied === undefined) {
        return notEvaluated(`firewall ${d.name ?? a.name} has neither allowed nor denied in its data`);
      }
      if (
        d.sourceRanges === undefined && d.sourceTags === undefined && d.sourceServiceAccounts === undefined
      ) {
        return notEvaluated(`firewall ${d.name ?? a.name} names no source (sourceRanges, sourceTags, ...)`);
      }
      const world = (d.sourceRanges ?? []).filter((r: string) => WORLD.has(r));
      if (!world.length || !allowsTcpPort(d.allowed ?? [], port)) {
        return pass(`firewall ${d.name ?? a.name} does not open ${service} (tcp/${port}) to the internet`);
      }
      return fail(
        `firewall ${d.name ?? a.name} allows ${service} (tcp/${port}) from ${world.join(", ")}; ` +
          `restrict sourceRanges to trusted ranges or use IAP (35.235.240.0/20)`,
      );
    },
  };
}

/** CIS GCP 3.1. */
export const defaultNetwork: Rule = {
  id: "cis-gcp-3.1-default-network",
  title: "Default network exists",
  severity: "medium",
  benchmarks: ["CIS GCP 3.1"],
  assetTypes: ["compute.googleapis.com/Network"],
  evaluate(a) {
    const d = dataOf(a);
    return d.name === "default"
      ? fail(
        `project ${
          a.project ?? a.project_number
        } still has the default network; delete it and use a custom VPC`,
      )
      : pass(`network ${d.name} is not the default network`);
  },
};

/** CIS GCP 3.2. */
export const legacyNetwork: Rule = {
  id: "cis-gcp-3.2-legacy-network",
  title: "Legacy network in use",
  severity: "medium",
  benchmarks: ["CIS GCP 3.2"],
  assetTypes: ["compute.googleapis.com/Network"],
  evaluate(a) {
    const d = dataOf(a);
    return d.IPv4Range !== undefined && d.IPv4Range !== null
      ? fail(
        `network ${d.name} is a legacy network (IPv4Range ${d.IPv4Range}); migrate to a VPC network with subnets`,
      )
      : pass(`network ${d.name} is a VPC network`);
  },
};

/** CIS GCP 3.6. */
export const sshOpen = openToWorld(
  22,
  "cis-gcp-3.6-ssh-open",
  "SSH open to the internet",
  "CIS GCP 3.6",
  "SSH",
);
/** CIS GCP 3.7. */
export const rdpOpen = openToWorld(
  3389,
  "cis-gcp-3.7-rdp-open",
  "RDP open to the internet",
  "CIS GCP 3.7",
  "RDP",
);

/** CIS GCP 3.8. */
export const subnetFlowLogs: Rule = {
  id: "cis-gcp-3.8-subnet-flow-logs",
  title: "Subnet without VPC flow logs",
  severity: "low",
  benchmarks: ["CIS GCP 3.8"],
  assetTypes: ["compute.googleapis.com/Subnetwork"],
  evaluate(a) {
    const d = dataOf(a);
    // Proxy-only and other special-purpose subnets cannot have flow logs.
    if (d.purpose && d.purpose !== "PRIVATE" && d.purpose !== "PRIVATE_RFC_1918") return null;
    return d.enableFlowLogs === true || d.logConfig?.enable === true
      ? pass(`subnet ${d.name} has flow logs on`)
      : fail(`subnet ${d.name} has VPC flow logs off; set logConfig.enable=true`);
  },
};
