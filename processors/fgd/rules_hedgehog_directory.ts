/**
 * The Hedgehog rules added for parity with v0.126.0 beyond the per-kind modules: those that need the rest of
 * the fabric directory (what the webhooks read from the cluster) and SwitchProfile consistency, one module per
 * topic, dispatched by kind. Each directory-wide module indexes the directory once per context.
 */
import type { KubeObject } from "./object.ts";
import type { Report, RuleContext, RuleInfo } from "./rule_pack.ts";
import { childPath } from "./finding.ts";
import { checkConnectionLinks, LINK_RULES, linkTypeOf } from "./rules_hedgehog_links.ts";
import { endpoints } from "./rules_hedgehog_wiring.ts";
import { obj } from "./rules_util.ts";
import { checkVpcOverlap, VPC_OVERLAP_RULES } from "./rules_hedgehog_vpc_overlap.ts";
import {
  ATTACH_RULES,
  checkExternalAttachmentDirectory,
  checkVpcAttachmentDirectory,
} from "./rules_hedgehog_attach.ts";
import { PROFILE_MISSING_RULE } from "./switch_profile.ts";
import { checkConnectionProfilePorts, checkSwitchProfile, PROFILE_RULES } from "./rules_hedgehog_profile.ts";
import { checkSwitchProfileObject, SWITCHPROFILE_RULES } from "./rules_hedgehog_switchprofile.ts";
import { checkSwitchUnique, SWITCH_UNIQUE_RULES } from "./rules_hedgehog_switch_unique.ts";

/** Every rule of the directory-wide modules. */
export const DIRECTORY_RULES: readonly RuleInfo[] = [
  ...LINK_RULES,
  ...VPC_OVERLAP_RULES,
  ...ATTACH_RULES,
  ...PROFILE_RULES,
  ...SWITCHPROFILE_RULES,
  ...SWITCH_UNIQUE_RULES,
  PROFILE_MISSING_RULE,
];

/** Runs the directory-wide rules for one (defaulted) object. */
export function checkDirectory(o: KubeObject, report: Report, ctx: RuleContext): void {
  switch (o.kind) {
    case "Connection": {
      const spec = obj(o.spec);
      const type = linkTypeOf(spec);
      if (!type) return; // hedgehog.connection.link-type
      // Endpoints serve the checks against other objects only: none without fabric context.
      const eps = ctx.lookup ? endpoints(obj(spec[type]), childPath("spec", type)) : [];
      checkConnectionLinks(o, type, eps, report, ctx);
      return checkConnectionProfilePorts(type, eps, report, ctx);
    }
    case "Switch":
      checkSwitchUnique(o, report, ctx);
      return checkSwitchProfile(o, report, ctx);
    case "SwitchProfile":
      return checkSwitchProfileObject(o, report);
    case "VPC":
      return checkVpcOverlap(o, report, ctx);
    case "VPCAttachment":
      return checkVpcAttachmentDirectory(o, report, ctx);
    case "ExternalAttachment":
      return checkExternalAttachmentDirectory(o, report, ctx);
  }
}
