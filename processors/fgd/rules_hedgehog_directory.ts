/**
 * The Hedgehog rules that need the rest of the fabric directory (what v0.126.0's webhooks read from the
 * cluster), one module per topic, dispatched by kind. Each module indexes the directory once per context.
 */
import type { KubeObject } from "./object.ts";
import type { Report, RuleContext, RuleInfo } from "./rule_pack.ts";
import { checkConnectionLinks, LINK_RULES } from "./rules_hedgehog_links.ts";
import { checkVpcOverlap, VPC_OVERLAP_RULES } from "./rules_hedgehog_vpc_overlap.ts";
import {
  ATTACH_RULES,
  checkExternalAttachmentDirectory,
  checkVpcAttachmentDirectory,
} from "./rules_hedgehog_attach.ts";
import { PROFILE_MISSING_RULE } from "./switch_profile.ts";

/** Every rule of the directory-wide modules. */
export const DIRECTORY_RULES: readonly RuleInfo[] = [
  ...LINK_RULES,
  ...VPC_OVERLAP_RULES,
  ...ATTACH_RULES,
  PROFILE_MISSING_RULE,
];

/** Runs the directory-wide rules for one (defaulted) object. */
export function checkDirectory(o: KubeObject, report: Report, ctx: RuleContext): void {
  switch (o.kind) {
    case "Connection":
      return checkConnectionLinks(o, report, ctx);
    case "VPC":
      return checkVpcOverlap(o, report, ctx);
    case "VPCAttachment":
      return checkVpcAttachmentDirectory(o, report, ctx);
    case "ExternalAttachment":
      return checkExternalAttachmentDirectory(o, report, ctx);
  }
}
