/**
 * Fabric GitOps Directory — pure logic (no network, no broker): validation, normalization, ingestion
 * planning, drafts and drift. The git, Kubernetes and gateway side lives in `features/fabrics/`.
 */
export * from "./finding.ts";
export * from "./object.ts";
export * from "./crd.ts";
export * from "./rule_pack.ts";
export { HEDGEHOG_RULES, HEDGEHOG_VERSION, hedgehogPack } from "./rules_hedgehog.ts";
export { type DocumentResult, RULE_PACKS, Validator } from "./validate.ts";
