/**
 * SwitchProfile consistency after githedgehog/fabric v0.126.0 `SwitchProfile.Validate`
 * (`api/wiring/v1beta1/switchprofile_types.go`): the identity fields, every port's naming and its group or
 * port profile, the port groups, the port profiles' speeds and breakout modes, and the pipelines. The
 * cluster stops at the first problem; every problem is reported here. Needs nothing but the object.
 */
import { childPath } from "./finding.ts";
import type { KubeObject } from "./object.ts";
import type { Report, RuleInfo } from "./rule_pack.ts";
import { int, list, names, obj, text } from "./rules_util.ts";

const r = (id: string, description: string): RuleInfo => ({ id, kinds: ["SwitchProfile"], description });

/** The rules of this module. */
export const SWITCHPROFILE_RULES: readonly RuleInfo[] = [
  r(
    "hedgehog.switchprofile.spec",
    "displayName, switchSilicon, a known nosType and platform are set; at most 5 distinct non-empty otherNames (v0.126.0 SwitchProfile.Validate)",
  ),
  r(
    "hedgehog.switchprofile.ports",
    "ports are M<n> management ports or E<asic>/<port> data ports with unique NOS names and labels, each in one existing group or port profile; groups and pipelines are used and valid (v0.126.0)",
  ),
  r(
    "hedgehog.switchprofile.port-profiles",
    "each port profile is used and has exactly one of speed or breakout, with a default among its supported speeds/modes (1G-800G, modes <1|2|4|8>x<speed> with offsets) (v0.126.0)",
  ),
];

/** `meta.NOSTypes` of v0.126.0. */
export const NOS_TYPES = [
  "sonic-bcm-base",
  "sonic-bcm-campus",
  "sonic-bcm-vs",
  "sonic-cls-plus-broadcom",
  "sonic-cls-plus-marvell",
  "sonic-cls-plus-vs",
  "cumulus-vx",
  "cumulus-mlx",
];

const SPEEDS = ["1G", "2.5G", "5G", "10G", "20G", "25G", "40G", "50G", "100G", "200G", "400G", "800G"];
const BREAKOUT_COUNTS = ["1", "2", "4", "8"];

/** Go's strconv.Atoi on the rest of `s` after `prefix`, or undefined. */
function numberAfter(s: unknown, prefix: string): number | undefined {
  if (typeof s !== "string" || !s.startsWith(prefix)) return undefined;
  const rest = s.slice(prefix.length);
  return /^[+-]?[0-9]+$/.test(rest) ? Number(rest) : undefined;
}

/** Why a breakout mode such as `4x25G` is invalid, or undefined. */
export function breakoutModeProblem(mode: string): string | undefined {
  const parts = mode.split("x");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return `mode ${mode} must be <count>x<speed>, e.g. 4x25G`;
  if (!BREAKOUT_COUNTS.includes(parts[0])) {
    return `mode ${mode} must split into ${names(BREAKOUT_COUNTS)} ports`;
  }
  if (!SPEEDS.includes(parts[1])) return `mode ${mode} has speed ${parts[1]}; use one of ${names(SPEEDS)}`;
  return undefined;
}

function checkPorts(spec: Record<string, unknown>, report: Report): { profiles: Set<string> } {
  const ports = obj(spec.ports);
  const groups = obj(spec.portGroups);
  const profiles = obj(spec.portProfiles);
  const pipelines = obj(spec.pipelines);
  const usedProfiles = new Set<string>();
  const usedGroups = new Set<string>();
  const nos = new Map<string, string>(), base = new Map<string, string>(), labels = new Map<string, string>();
  const once = (seen: Map<string, string>, v: string, name: string, what: string, at: string) => {
    const prior = seen.get(v);
    if (prior) {
      report("hedgehog.switchprofile.ports", at, `port ${name} ${what} ${v} is also port ${prior}'s`);
    } else seen.set(v, name);
  };
  for (const [name, pv] of Object.entries(ports)) {
    const port = obj(pv);
    const at = childPath("spec.ports", name);
    const bad = (message: string) => report("hedgehog.switchprofile.ports", at, `port ${name}: ${message}`);
    const nosName = text(port.nos);
    if (!nosName) bad("needs its NOS name (nos)");
    if (name.length < 2) bad("the name needs at least two characters");
    if (nosName) once(nos, nosName, name, "NOS name", at);
    if (text(port.baseNOSName)) once(base, port.baseNOSName as string, name, "base NOS name", at);
    if (port.management === true) {
      if (!(numberAfter(name, "M")! > 0)) bad("a management port is named M<n>, n >= 1");
      if (nosName && !(numberAfter(nosName, "Management")! >= 0)) {
        bad("a management port's NOS name is Management<n>");
      }
      if (!(numberAfter(port.oniePortName, "eth")! >= 0)) bad("a management port needs oniePortName eth<n>");
      if (text(port.group) || text(port.profile) || text(port.baseNOSName)) {
        bad("a management port has no group, profile or baseNOSName");
      }
      continue;
    }
    const seg = /^E([^/]*)\/([^/]*)$/.exec(name);
    if (!seg || !(numberAfter(seg[1], "")! > 0) || !(numberAfter(seg[2], "")! > 0)) {
      bad("a data port is named E<asic>/<port> with positive integers, e.g. E1/1");
    }
    if (!text(port.label)) bad("needs the label printed on the switch");
    else once(labels, port.label as string, name, "label", at);
    const profile = text(port.profile), group = text(port.group);
    if (!profile === !group) bad("needs exactly one of profile or group");
    let breakout = false;
    if (profile) {
      if (!Object.hasOwn(profiles, profile)) {
        bad(`references port profile ${profile}, which portProfiles lacks`);
      } else {
        usedProfiles.add(profile);
        breakout = obj(profiles[profile]).breakout !== undefined;
      }
      if (breakout) {
        if (nosName && numberAfter(nosName, "1/") === undefined) bad("a breakout port's NOS name is 1/<n>");
        if (!(numberAfter(port.baseNOSName, "Ethernet")! >= 0)) {
          bad("a breakout port needs baseNOSName Ethernet<n>");
        }
      }
    }
    if (text(port.pipeline)) {
      if (!Object.hasOwn(pipelines, port.pipeline as string)) {
        bad(`references pipeline ${port.pipeline}, which pipelines lacks`);
      }
      if (!breakout) bad("only a breakout port belongs to a pipeline");
    }
    if (!breakout && nosName && !(numberAfter(nosName, "Ethernet")! >= 0)) {
      bad("a data port's NOS name is Ethernet<n>");
    }
    if (group) {
      if (!Object.hasOwn(groups, group)) bad(`references port group ${group}, which portGroups lacks`);
      usedGroups.add(group);
    }
  }
  for (const [name, gv] of Object.entries(groups)) {
    const g = obj(gv);
    const at = childPath("spec.portGroups", name);
    const bad = (message: string) =>
      report("hedgehog.switchprofile.ports", at, `port group ${name}: ${message}`);
    if (!usedGroups.has(name)) bad("no port uses it; remove it");
    if (!(numberAfter(g.nos, "")! > 0)) bad("its NOS name (nos) is a positive integer");
    const profile = text(g.profile);
    if (!profile || !Object.hasOwn(profiles, profile)) bad("needs a port profile of portProfiles");
    else {
      usedProfiles.add(profile);
      const p = obj(profiles[profile]);
      if (p.speed === undefined) bad(`port profile ${profile} has no speed (a group runs one speed)`);
      if (p.autoNegAllowed === true) {
        bad(`port profile ${profile} allows auto-negotiation, which groups do not`);
      }
    }
  }
  for (const [name, pv] of Object.entries(pipelines)) {
    if (!(int(obj(pv).maxPorts)! > 0)) {
      report(
        "hedgehog.switchprofile.ports",
        childPath("spec.pipelines", name),
        `pipeline ${name} needs maxPorts > 0`,
      );
    }
  }
  return { profiles: usedProfiles };
}

function checkPortProfiles(spec: Record<string, unknown>, used: Set<string>, report: Report): void {
  for (const [name, pv] of Object.entries(obj(spec.portProfiles))) {
    const p = obj(pv);
    const at = childPath("spec.portProfiles", name);
    const bad = (message: string) =>
      report("hedgehog.switchprofile.port-profiles", at, `port profile ${name}: ${message}`);
    if (!used.has(name)) bad("no port or group uses it; remove it");
    if ((p.speed === undefined) === (p.breakout === undefined)) bad("needs exactly one of speed or breakout");
    if (p.autoNegDefault === true && p.autoNegAllowed !== true) bad("autoNegDefault needs autoNegAllowed");
    if (p.speed !== undefined) {
      const s = obj(p.speed);
      const supported = list(s.supported);
      if (!text(s.default) || !supported.includes(s.default)) {
        bad("speed.default must be one of speed.supported");
      }
      if (!supported.length) bad("speed.supported lists the speeds the port runs");
      for (const v of supported) {
        if (!SPEEDS.includes(v as string)) bad(`speed ${v} is not one of ${names(SPEEDS)}`);
      }
    }
    if (p.breakout !== undefined) {
      const b = obj(p.breakout);
      const supported = obj(b.supported);
      if (!text(b.default) || !Object.hasOwn(supported, b.default as string)) {
        bad("breakout.default must be one of breakout.supported");
      }
      if (!Object.keys(supported).length) bad("breakout.supported lists the modes the port runs");
      for (const [mode, m] of Object.entries(supported)) {
        if (!list(obj(m).offsets).length) bad(`breakout mode ${mode} needs its NOS port offsets`);
        const problem = breakoutModeProblem(mode);
        if (problem) bad(problem);
      }
    }
  }
}

/** Checks one SwitchProfile. */
export function checkSwitchProfileObject(o: KubeObject, report: Report): void {
  const spec = obj(o.spec);
  const bad = (field: string, message: string) =>
    report("hedgehog.switchprofile.spec", childPath("spec", field), message);
  if (!text(spec.displayName)) bad("displayName", "displayName is required, e.g. Dell S5248F-ON");
  const other = list(spec.otherNames);
  if (other.length > 5) bad("otherNames", "otherNames has at most 5 entries");
  if (other.some((n) => !text(n)) || new Set(other).size !== other.length) {
    bad("otherNames", "otherNames holds distinct, non-empty names");
  }
  if (!text(spec.switchSilicon)) bad("switchSilicon", "switchSilicon is required, e.g. Broadcom TD3-X7 3.2T");
  if (!NOS_TYPES.includes(spec.nosType as string)) {
    bad("nosType", `nosType ${JSON.stringify(spec.nosType ?? "")} is not one of ${names(NOS_TYPES)}`);
  }
  if (!text(spec.platform)) bad("platform", "platform is required, e.g. x86_64-dellemc_s5248f_c3538-r0");
  const { profiles } = checkPorts(spec, report);
  checkPortProfiles(spec, profiles, report);
}
