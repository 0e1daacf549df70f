/**
 * The built-in rule set (CIS GCP Foundation and CIS GKE) and lookup by asset type. Governance rules from
 * `pmo.yaml` are added at runtime (`governance.ts`).
 */
import { defaultNetwork, legacyNetwork, rdpOpen, sshOpen, subnetFlowLogs } from "./cis_network.ts";
import {
  bucketPublic,
  bucketUniformAccess,
  gkeLegacyAbac,
  gkePrivateNodes,
  osLogin,
  sqlOpenToWorld,
  sqlPublicIp,
  sqlRequireSsl,
  vmPublicIp,
} from "./cis_workloads.ts";
import type { Rule } from "./rule.ts";

/** Every built-in rule, by benchmark order. Ids are persisted contracts. */
export const CIS_RULES: readonly Rule[] = [
  defaultNetwork,
  legacyNetwork,
  sshOpen,
  rdpOpen,
  subnetFlowLogs,
  osLogin,
  vmPublicIp,
  bucketPublic,
  bucketUniformAccess,
  sqlRequireSsl,
  sqlOpenToWorld,
  sqlPublicIp,
  gkeLegacyAbac,
  gkePrivateNodes,
];

/** Rules indexed by asset type. */
export function indexByType(rules: readonly Rule[]): Map<string, Rule[]> {
  const m = new Map<string, Rule[]>();
  for (const r of rules) {
    for (const t of r.assetTypes) {
      let list = m.get(t);
      if (!list) m.set(t, list = []);
      list.push(r);
    }
  }
  return m;
}
