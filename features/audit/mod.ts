/**
 * The audit trail: the `audit` processor (one record per Landing Zone sync run) and `GET /api/v1/audit`.
 * Writers elsewhere (the Portal repository sink, the fabrics API, `lzsync replay`) add their records with
 * {@link produceAudit}.
 */
import type { Feature } from "../../pipeline/feature.ts";
import { AUDIT_TOPIC } from "../../schemas/audit.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import { auditTopology } from "../../processors/audit/mod.ts";
import { auditPlugin } from "./plugin.ts";

export { auditRecord, produceAudit } from "./record.ts";
export { auditPlugin, queryAudit } from "./plugin.ts";

/** The audit layer for `pipeline/features.ts`: it owns `lz.audit.v1`. */
export const auditFeature: Feature = {
  name: "audit",
  topics: [AUDIT_TOPIC],
  topologies: () => [auditTopology() as Topology],
  build: () => ({
    name: "audit",
    topologies: [auditTopology() as Topology],
    services: [],
    plugins: [auditPlugin()],
  }),
};
