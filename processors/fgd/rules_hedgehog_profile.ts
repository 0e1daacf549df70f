/**
 * Switch and Connection rules that need the Switch's SwitchProfile, after githedgehog/fabric v0.126.0
 * `Switch.Validate` and `Connection.Validate` (behind `kube != nil`): the VLANNamespaces, SwitchGroups and
 * SwitchProfile a Switch names exist, its namespaces' VLAN ranges do not overlap, its port speeds, breakouts
 * and auto-negotiation settings are ones its profile offers, its features (RoCE, ECMP QPN hashing, MCLAG,
 * ESLAG) are the profile's, its breakouts fit the profile's port limits, and every switch port a Connection
 * uses is a port of the switch's profile. Each check is a map lookup in the profile (no scans of the
 * directory).
 */
import { childPath } from "./finding.ts";
import type { KubeObject } from "./object.ts";
import type { Report, RuleContext, RuleInfo } from "./rule_pack.ts";
import { checkRef, WIRING_GROUP } from "./rules_hedgehog_vpc.ts";
import type { Endpoint } from "./rules_hedgehog_links.ts";
import { int, list, names, obj, text } from "./rules_util.ts";
import { featuresOf, profileOf } from "./switch_profile.ts";

const r = (id: string, kinds: string[], description: string): RuleInfo => ({ id, kinds, description });

/** The rules of this module. */
export const PROFILE_RULES: readonly RuleInfo[] = [
  r(
    "hedgehog.switch.vlan-namespaces",
    ["Switch"],
    "the VLAN ranges of a switch's VLANNamespaces do not overlap (v0.126.0 Switch.Validate)",
  ),
  r(
    "hedgehog.switch.profile-ports",
    ["Switch"],
    "portGroupSpeeds, portSpeeds, portBreakouts and portAutoNegs name ports/groups of the switch's profile with a speed, breakout mode or auto-negotiation it supports (v0.126.0 Switch.Validate)",
  ),
  r(
    "hedgehog.switch.profile-features",
    ["Switch"],
    "roce, ecmp.roceQPN and an mclag/eslag redundancy type are features of the switch's profile (v0.126.0 Switch.Validate)",
  ),
  r(
    "hedgehog.switch.max-ports",
    ["Switch"],
    "the ports after breakout fit the profile's maxPorts and each pipeline's maxPorts (v0.126.0 Switch.Validate)",
  ),
  r(
    "hedgehog.connection.profile-ports",
    ["Connection"],
    "every switch port of a Connection is a port of the switch's profile (breakout lanes per the switch's breakout mode) (v0.126.0 Connection.Validate)",
  ),
];

interface ProfileView {
  name: string;
  ports: Record<string, unknown>;
  groups: Record<string, unknown>;
  profiles: Record<string, unknown>;
}

const viewOf = (p: KubeObject): ProfileView => {
  const spec = obj(p.spec);
  return {
    name: p.metadata.name,
    ports: obj(spec.ports),
    groups: obj(spec.portGroups),
    profiles: obj(spec.portProfiles),
  };
};

const has = (o: Record<string, unknown>, k: unknown): k is string =>
  typeof k === "string" && Object.hasOwn(o, k);

/** The port profile of a profile port (empty when it has none, e.g. a port of a group). */
const portProfileOf = (p: ProfileView, port: string) => {
  const name = obj(p.ports[port]).profile;
  return has(p.profiles, name) ? obj(p.profiles[name]) : {};
};

/** The lanes a breakout port has on a switch (its override, else the profile's default); undefined: unsupported mode. */
function lanesOf(port: string, portProfile: Record<string, unknown>, breakouts: Record<string, unknown>) {
  const b = obj(portProfile.breakout);
  const mode = Object.hasOwn(breakouts, port) ? breakouts[port] : b.default;
  const supported = obj(b.supported);
  return has(supported, mode) ? list(obj(supported[mode]).offsets).length : undefined;
}

/** True when `name` (`E1/5`, or a lane `E1/55/2`) may carry portAutoNegs on this switch. */
function autoNegAllowed(name: string, p: ProfileView, breakouts: Record<string, unknown>): boolean {
  if (has(p.ports, name)) {
    const prof = portProfileOf(p, name);
    return prof.speed !== undefined && prof.autoNegAllowed === true;
  }
  const lane = /^(.*)\/([1-9][0-9]*)$/.exec(name);
  if (!lane || !has(p.ports, lane[1])) return false;
  const prof = portProfileOf(p, lane[1]);
  if (prof.breakout === undefined || prof.autoNegAllowed !== true) return false;
  const lanes = lanesOf(lane[1], prof, breakouts);
  return lanes !== undefined && +lane[2] <= lanes;
}

function checkPortSettings(spec: Record<string, unknown>, p: ProfileView, report: Report): void {
  const bad = (path: string, message: string) => report("hedgehog.switch.profile-ports", path, message);
  const breakouts = obj(spec.portBreakouts);
  for (const [name, value] of Object.entries(obj(spec.portGroupSpeeds))) {
    const at = childPath("spec.portGroupSpeeds", name);
    const speed = value; // defaulting cut any SPEED_ prefix
    if (!has(p.groups, name)) {
      bad(
        at,
        `SwitchProfile ${p.name} has no port group ${name}; use one of ${names(Object.keys(p.groups))}`,
      );
      continue;
    }
    const profName = obj(p.groups[name]).profile;
    const supported = list(obj(obj(has(p.profiles, profName) ? p.profiles[profName] : {}).speed).supported);
    if (!supported.includes(speed)) {
      bad(
        at,
        `port group ${name} of SwitchProfile ${p.name} does not support speed ${speed}; use one of ${
          names(supported.map(String))
        }`,
      );
    }
  }
  for (const [name, value] of Object.entries(obj(spec.portSpeeds))) {
    const at = childPath("spec.portSpeeds", name);
    const speed = value; // defaulting cut any SPEED_ prefix
    if (!has(p.ports, name)) {
      bad(at, `port ${name} is not a port of SwitchProfile ${p.name}`);
      continue;
    }
    const prof = portProfileOf(p, name);
    const supported = list(obj(prof.speed).supported);
    if (prof.speed === undefined) {
      const group = obj(p.ports[name]).group;
      bad(
        at,
        `port ${name} of SwitchProfile ${p.name} has no speed of its own (${
          group
            ? `it is in port group ${group}: set spec.portGroupSpeeds`
            : "a breakout port: set spec.portBreakouts"
        })`,
      );
    } else if (!supported.includes(speed)) {
      bad(at, `port ${name} does not support speed ${speed}; use one of ${names(supported.map(String))}`);
    }
  }
  for (const [name, mode] of Object.entries(breakouts)) {
    const at = childPath("spec.portBreakouts", name);
    if (!has(p.ports, name)) {
      bad(at, `port ${name} is not a port of SwitchProfile ${p.name}`);
      continue;
    }
    const prof = portProfileOf(p, name);
    const supported = Object.keys(obj(obj(prof.breakout).supported));
    if (prof.breakout === undefined) bad(at, `port ${name} of SwitchProfile ${p.name} cannot break out`);
    else if (!supported.includes(mode as string)) {
      bad(at, `port ${name} does not support breakout ${mode}; use one of ${names(supported)}`);
    }
  }
  for (const name of Object.keys(obj(spec.portAutoNegs))) {
    if (!autoNegAllowed(name, p, breakouts)) {
      bad(
        childPath("spec.portAutoNegs", name),
        `port ${name} of SwitchProfile ${p.name} does not allow configuring auto-negotiation (breakout lanes are named <port>/<n>)`,
      );
    }
  }
}

function checkMaxPorts(
  spec: Record<string, unknown>,
  profile: KubeObject,
  p: ProfileView,
  report: Report,
): void {
  const breakouts = obj(spec.portBreakouts);
  let total = 0;
  const pipes = new Map<string, { n: number; ports: string[] }>();
  for (const [name, pv] of Object.entries(p.ports)) {
    const port = obj(pv);
    if (port.management === true) continue;
    let n = 1;
    const prof = portProfileOf(p, name);
    if (!text(port.group) && prof.breakout !== undefined) n = lanesOf(name, prof, breakouts) ?? 1;
    total += n;
    const pipe = text(port.pipeline);
    if (pipe) {
      const e = pipes.get(pipe) ?? { n: 0, ports: [] };
      e.n += n;
      e.ports.push(name);
      pipes.set(pipe, e);
    }
  }
  const pspec = obj(profile.spec);
  const max = int(pspec.maxPorts) ?? 0;
  if (max > 0 && total > max) {
    report(
      "hedgehog.switch.max-ports",
      "spec.portBreakouts",
      `the breakouts give ${total} ports; SwitchProfile ${p.name} allows at most ${max}`,
    );
  }
  if (pspec.pipelines === undefined) return;
  const pipelines = obj(pspec.pipelines);
  for (const [pipe, { n, ports }] of pipes) {
    const limit = has(pipelines, pipe) ? int(obj(pipelines[pipe]).maxPorts) ?? 0 : undefined;
    if (limit === undefined) {
      report(
        "hedgehog.switch.max-ports",
        "spec.profile",
        `SwitchProfile ${p.name} ports use unknown pipeline ${pipe}`,
      );
    } else if (n > limit) {
      report(
        "hedgehog.switch.max-ports",
        "spec.portBreakouts",
        `pipeline ${pipe} (ports ${
          names(ports.sort())
        }) would have ${n} ports after breakout, at most ${limit}; use narrower breakouts`,
      );
    }
  }
}

/** Checks one (defaulted) Switch against its namespaces, groups and profile. */
export function checkSwitchProfile(o: KubeObject, report: Report, ctx: RuleContext): void {
  if (!ctx.lookup) return;
  const spec = obj(o.spec);
  // VLANNamespaces (defaulted to [default]) exist and do not overlap each other.
  const ranges: { ns: string; from: number; to: number }[] = [];
  for (const ns of list(spec.vlanNamespaces)) {
    if (typeof ns !== "string") continue;
    const found = checkRef(ctx, report, "spec.vlanNamespaces", WIRING_GROUP, "VLANNamespace", ns);
    for (const rg of list(obj(found?.spec).ranges)) {
      const from = int(obj(rg).from), to = int(obj(rg).to);
      if (from === undefined || to === undefined) continue;
      const clash = ranges.find((x) => x.ns !== ns && from <= x.to && x.from <= to);
      if (clash) {
        report(
          "hedgehog.switch.vlan-namespaces",
          "spec.vlanNamespaces",
          `VLANNamespace ${ns} range ${from}-${to} overlaps ${clash.from}-${clash.to} of VLANNamespace ${clash.ns}; the VLANNamespaces of a switch must not overlap`,
        );
      }
      ranges.push({ ns, from, to });
    }
  }
  // SwitchGroups exist (the redundancy group is one too: defaulting adds it to groups).
  const red = obj(spec.redundancy);
  const groups = new Set([...list(spec.groups), red.group].filter((g): g is string => !!text(g)));
  for (const g of groups) checkRef(ctx, report, "spec.groups", WIRING_GROUP, "SwitchGroup", g);

  const profile = profileOf(ctx, o, report, "spec.profile", "its port speeds, breakouts and features are");
  if (!profile) return;
  const p = viewOf(profile);
  checkPortSettings(spec, p, report);
  const f = featuresOf(profile);
  const feature = (ok: boolean, path: string, what: string) => {
    if (!ok) {
      report(
        "hedgehog.switch.profile-features",
        path,
        `${what} is not supported on SwitchProfile ${p.name}; turn it off or use a profile that has it`,
      );
    }
  };
  feature(spec.roce !== true || f.roce, "spec.roce", "RoCEv2");
  feature(obj(spec.ecmp).roceQPN !== true || f.ecmpRoCEQPN, "spec.ecmp.roceQPN", "ECMP RoCE QPN hashing");
  feature(red.type !== "mclag" || f.mclag, "spec.redundancy.type", "MCLAG");
  feature(red.type !== "eslag" || f.eslag, "spec.redundancy.type", "ESLAG");
  checkMaxPorts(spec, profile, p, report);
}

/** True when `port` (without the switch) is an API port of a switch with profile `p` and these breakouts. */
function allowedPort(port: string, p: ProfileView, breakouts: Record<string, unknown>): boolean {
  if (has(p.ports, port)) return true; // management, group, speed and breakout ports (the lane-1 alias)
  const lane = /^(.*)\/([1-9][0-9]*)$/.exec(port);
  if (!lane || !has(p.ports, lane[1])) return false;
  const prof = portProfileOf(p, lane[1]);
  if (prof.breakout === undefined) return false;
  const lanes = lanesOf(lane[1], prof, breakouts);
  return lanes !== undefined && +lane[2] <= lanes;
}

/** Checks that every switch port of one Connection (link `type`, endpoints `eps`) is a port of that switch's profile. */
export function checkConnectionProfilePorts(
  type: string,
  eps: readonly Endpoint[],
  report: Report,
  ctx: RuleContext,
): void {
  if (!ctx.lookup) return;
  const at = childPath("spec", type);
  const bySwitch = new Map<string, { port: string; path: string }[]>();
  for (const ep of eps) {
    if (
      typeof ep.port !== "string" || ep.role === "server" || (type === "gateway" && ep.role === "gateway")
    ) {
      continue;
    }
    const i = ep.port.indexOf("/");
    if (i <= 0) continue;
    const sw = ep.port.slice(0, i);
    const l = bySwitch.get(sw);
    if (l) l.push({ port: ep.port, path: ep.path });
    else bySwitch.set(sw, [{ port: ep.port, path: ep.path }]);
  }
  for (const [name, ports] of bySwitch) {
    const sw = ctx.lookup(WIRING_GROUP, "Switch", name);
    if (!sw) continue; // reported as hedgehog.ref.missing
    const profile = profileOf(ctx, sw, report, at, "the ports of this Connection on it are");
    if (!profile) continue;
    const p = viewOf(profile);
    const breakouts = obj(obj(sw.spec).portBreakouts);
    for (const { port, path } of ports) {
      if (allowedPort(port.slice(name.length + 1), p, breakouts)) continue;
      report(
        "hedgehog.connection.profile-ports",
        path,
        `port ${port} is not a port of Switch ${name} (SwitchProfile ${p.name}); use a port of the profile's spec.ports, or a lane <port>/<n> of a port the switch breaks out (spec.portBreakouts or the profile's default mode)`,
      );
    }
  }
}
