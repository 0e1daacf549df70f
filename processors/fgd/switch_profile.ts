/**
 * What the rules need from a Hedgehog SwitchProfile (githedgehog/fabric v0.126.0 `switchprofile_types.go`):
 * finding a Switch's profile in the fabric directory, its feature flags, and the API port names a Switch
 * with that profile has (breakout lanes included, per the Switch's breakout modes).
 *
 * The fabric's built-in profiles (`pkg/ctrl/switchprofile`, Go data) are created in the cluster by the
 * fabric controller and are usually not in a GitOps directory: a profile missing from the directory is a
 * warning (`hedgehog.switchprofile.missing`) and the checks that need it are skipped.
 */
import type { KubeObject } from "./object.ts";
import type { Report, RuleContext, RuleInfo } from "./rule_pack.ts";
import { WIRING_GROUP } from "./rules_hedgehog_vpc.ts";
import { obj, text } from "./rules_util.ts";

/** The warning this module reports. */
export const PROFILE_MISSING_RULE: RuleInfo = {
  id: "hedgehog.switchprofile.missing",
  kinds: ["Switch", "Connection", "VPCAttachment"],
  description:
    "the SwitchProfile of a Switch is in the fabric directory, so that ports, breakouts and features can be checked (warning only: the built-in profiles live in the cluster)",
};

/** Feature flags of a profile (`spec.features`, each false when absent). */
export interface Features {
  subinterfaces: boolean;
  acls: boolean;
  l2vni: boolean;
  l3vni: boolean;
  roce: boolean;
  mclag: boolean;
  eslag: boolean;
  ecmpRoCEQPN: boolean;
}

/** The feature flags of a SwitchProfile object. */
export function featuresOf(profile: KubeObject): Features {
  const f = obj(obj(profile.spec).features);
  const on = (k: string) => f[k] === true;
  return {
    subinterfaces: on("subinterfaces"),
    acls: on("acls"),
    l2vni: on("l2vni"),
    l3vni: on("l3vni"),
    roce: on("roce"),
    mclag: on("mclag"),
    eslag: on("eslag"),
    ecmpRoCEQPN: on("ecmpRoCEQPN"),
  };
}

/**
 * The SwitchProfile of Switch `sw`, from the directory; when the directory has no such profile, warns at
 * `path` (saying what is skipped) and returns undefined. Undefined without fabric context or profile name.
 */
export function profileOf(
  ctx: RuleContext,
  sw: KubeObject,
  report: Report,
  path: string,
  skipped: string,
): KubeObject | undefined {
  const name = text(obj(sw.spec).profile);
  if (!ctx.lookup || !name) return undefined;
  const found = ctx.lookup(WIRING_GROUP, "SwitchProfile", name);
  if (!found) {
    report(
      PROFILE_MISSING_RULE.id,
      path,
      `SwitchProfile ${name} of Switch ${sw.metadata.name} is not in this fabric directory (the fabric's built-in profiles are created in the cluster), so ${skipped} not checked; add the SwitchProfile to check them here`,
      "warning",
    );
  }
  return found;
}
