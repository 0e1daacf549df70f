/**
 * The Hedgehog defaulting layer: what the fabric's mutating admission webhooks (`Default()` in
 * githedgehog/fabric v0.126.0, `api/*\/v1beta1/*_types.go`) fill in before the API server checks the schema
 * and the validating webhooks check the rules. The validator checks the defaulted object, so documents the
 * cluster accepts (a static ExternalAttachment without `neighbor`/`switch`, a VPCAttachment `subnet: vpc-1`,
 * DHCP options with only `dnsServers`) are accepted here too.
 *
 * What reaches `managed/` is the object as written, not the defaulted one (see {@link Defaulted.written}):
 * filled-in values are the cluster's to add (drift ignores fields only the cluster has), and writing them
 * would change the bytes of every already-valid file. The exception is a shorthand the cluster rewrites in
 * place (`subnet: vpc-1` → `vpc-1/default`): `managed/` spells it out, so the file says what the cluster
 * holds and drift does not report it.
 */
import { formatIPv4, parseCidr } from "./ipv4.ts";
import { childPath } from "./finding.ts";
import { isPlainObject, type KubeObject } from "./object.ts";
import type { Defaulted } from "./rule_pack.ts";

/** The fabric release whose webhooks this layer and the Hedgehog rule pack reproduce. */
export const HEDGEHOG_VERSION = "v0.126.0";

/** A deep copy of plain JSON data (objects decoded from YAML hold nothing else). */
function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = clone(v[k]);
  return out as T;
}

const empty = (v: unknown) => v === undefined || v === null || v === "" || v === 0 || v === false;

/** Parses a MAC the way Go's `net.ParseMAC` does (EUI-48/64 or IPoIB; `:`/`-` pairs or `.` quads). */
export function parseMac(s: unknown): string | undefined {
  if (typeof s !== "string") return undefined;
  let bytes: string[];
  if (/^[0-9A-Fa-f]{4}(\.[0-9A-Fa-f]{4})+$/.test(s)) {
    bytes = s.split(".").flatMap((q) => [q.slice(0, 2), q.slice(2)]);
  } else if (/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})+$/.test(s) || /^[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2})+$/.test(s)) {
    bytes = s.split(/[:-]/);
  } else return undefined;
  if (![6, 8, 20].includes(bytes.length)) return undefined;
  return bytes.map((b) => b.toLowerCase()).join(":");
}

type Spec = Record<string, unknown>;

function defaultVpc(spec: Spec, changed: string[], dropped: Defaulted["dropped"]): void {
  for (const f of ["ipv4Namespace", "vlanNamespace"]) {
    if (empty(spec[f])) {
      spec[f] = "default";
      changed.push(childPath("spec", f));
    }
  }
  if (!isPlainObject(spec.subnets)) return;
  for (const [name, raw] of Object.entries(spec.subnets)) {
    if (!isPlainObject(raw)) continue;
    const sn = raw;
    const at = childPath("spec.subnets", name);
    const cidr = parseCidr(sn.subnet);
    if (!cidr) continue;
    if (empty(sn.gateway) && sn.hostBGP !== true) {
      sn.gateway = formatIPv4(cidr.network + 1);
      changed.push(childPath(at, "gateway"));
    }
    if (cidr.len > 30) continue;
    if (sn.dhcp === undefined || sn.dhcp === null) continue;
    if (!isPlainObject(sn.dhcp)) continue;
    const dhcp = sn.dhcp;
    const dat = childPath(at, "dhcp");
    if (dhcp.enable !== true) {
      for (const f of ["range", "options"]) {
        if (dhcp[f] === undefined) continue;
        if (!isPlainObject(dhcp[f]) || Object.keys(dhcp[f]).length) {
          dropped.push({
            path: childPath(dat, f),
            message: `dhcp.${f} only applies with dhcp.enable: true; the cluster drops it from this subnet ` +
              "(Hedgehog VPC defaulting); enable DHCP or remove it",
          });
        }
        delete dhcp[f];
      }
    } else {
      if (dhcp.range === undefined || dhcp.range === null) dhcp.range = {};
      if (isPlainObject(dhcp.range)) {
        const r = dhcp.range;
        if (empty(r.start)) {
          r.start = formatIPv4(cidr.network + 2);
          changed.push(childPath(childPath(dat, "range"), "start"));
        }
        if (empty(r.end)) {
          r.end = formatIPv4(cidr.broadcast);
          changed.push(childPath(childPath(dat, "range"), "end"));
        }
      }
      if (isPlainObject(dhcp.options)) defaultDhcpOptions(dhcp, childPath(dat, "options"), changed);
    }
    if (dhcp.enable === true && isPlainObject(dhcp.static)) {
      const out: Record<string, unknown> = {};
      let rewrote = false;
      for (const [mac, v] of Object.entries(dhcp.static)) {
        const canon = parseMac(mac);
        const key = canon !== undefined && !(canon in dhcp.static && canon !== mac) ? canon : mac;
        if (key !== mac) {
          rewrote = true;
          changed.push(childPath(childPath(dat, "static"), mac));
        }
        out[key] = v;
      }
      if (rewrote) dhcp.static = out;
    }
  }
}

function defaultDhcpOptions(dhcp: Spec, at: string, changed: string[]): void {
  const o = dhcp.options as Spec;
  const unset = (v: unknown) => v === undefined || v === null;
  if (
    ["pxeURL", "interfaceMTU", "leaseTimeSeconds", "disableDefaultRoute"].every((f) => empty(o[f])) &&
    ["dnsServers", "timeServers", "advertisedRoutes"].every((f) => unset(o[f]))
  ) {
    delete dhcp.options; // nothing set: Go's webhook nils the options
    return;
  }
  const fill = (f: string, v: unknown) => {
    o[f] = v;
    changed.push(childPath(at, f));
  };
  if (empty(o.interfaceMTU)) fill("interfaceMTU", 9036);
  if (empty(o.leaseTimeSeconds)) fill("leaseTimeSeconds", 3600);
  for (const f of ["dnsServers", "timeServers"]) {
    if (o[f] === undefined || o[f] === null) fill(f, []);
    else if (Array.isArray(o[f]) && o[f].every((s) => typeof s === "string")) {
      (o[f] as string[]).sort();
    }
  }
  if (o.advertisedRoutes === undefined || o.advertisedRoutes === null) fill("advertisedRoutes", []);
  else if (Array.isArray(o.advertisedRoutes) && o.advertisedRoutes.every(isPlainObject)) {
    const key = (r: Spec) => [String(r.destination ?? ""), String(r.gateway ?? "")];
    (o.advertisedRoutes as Spec[]).sort((a, b) => {
      const [ad, ag] = key(a);
      const [bd, bg] = key(b);
      return ad < bd ? -1 : ad > bd ? 1 : ag < bg ? -1 : ag > bg ? 1 : 0;
    });
  }
}

/** Link-flap error-disable values `Switch.Default` fills in (v0.126.0 `DefaultLinkFlap*`). */
const LINK_FLAP_DEFAULTS = { flapThreshold: 3, samplingInterval: 30, recoveryInterval: 300 };

/**
 * `Switch.Default`: cuts the `SPEED_` prefix of port and port-group speeds (in place: true is returned so
 * that `managed/` spells the stored value), adds the redundancy group to `groups`, defaults an empty
 * `vlanNamespaces` to `[default]`, fills link-flap error-disable values, and sorts groups and namespaces.
 */
function defaultSwitch(spec: Spec, changed: string[]): boolean {
  let rewritten = false;
  for (const f of ["portSpeeds", "portGroupSpeeds"]) {
    const m = spec[f];
    if (!isPlainObject(m)) continue;
    for (const [port, v] of Object.entries(m)) {
      if (typeof v === "string" && v.startsWith("SPEED_")) {
        m[port] = v.slice("SPEED_".length);
        changed.push(childPath(childPath("spec", f), port));
        rewritten = true;
      }
    }
  }
  const ns = spec.vlanNamespaces;
  if (ns === undefined || ns === null || (Array.isArray(ns) && ns.length === 0)) {
    spec.vlanNamespaces = ["default"];
    changed.push("spec.vlanNamespaces");
  }
  const red = isPlainObject(spec.redundancy) ? spec.redundancy : {};
  const groups = spec.groups === undefined || spec.groups === null ? [] : spec.groups;
  if (
    typeof red.group === "string" && red.group !== "" && Array.isArray(groups) && !groups.includes(red.group)
  ) {
    spec.groups = [...groups, red.group];
    changed.push("spec.groups");
  }
  if (isPlainObject(spec.linkFlapErrDisable)) {
    const lf = spec.linkFlapErrDisable;
    let filled = false;
    for (const [k, v] of Object.entries(LINK_FLAP_DEFAULTS)) {
      if (lf[k] === undefined || lf[k] === null) {
        lf[k] = v;
        filled = true;
      }
    }
    if (filled) changed.push("spec.linkFlapErrDisable");
  }
  for (const f of ["groups", "vlanNamespaces"]) {
    const l = spec[f];
    if (Array.isArray(l) && l.every((x) => typeof x === "string")) l.sort();
  }
  return rewritten;
}

/** `<vpc>` alone means the VPC's `default` subnet (VPCAttachment defaulting). */
function spellSubnet(spec: Spec): boolean {
  const s = spec.subnet;
  if (typeof s !== "string" || s === "" || s.startsWith("/") || s.includes("/")) return false;
  spec.subnet = `${s}/default`;
  return true;
}

/** The kinds {@link defaultHedgehog} has defaults for (the others are returned as they are, not copied). */
const DEFAULTED_KINDS = new Set(["VPC", "External", "ExternalAttachment", "VPCAttachment", "Switch"]);

/**
 * Applies the Hedgehog mutating webhooks (v0.126.0) to an object of the vpc or wiring group. Never mutates
 * its argument; returns it unchanged (same reference) for kinds without defaults. Values of the wrong type
 * are left for the schema layer to report.
 */
export function defaultHedgehog(o: KubeObject): Defaulted {
  const changed: string[] = [];
  const dropped: Defaulted["dropped"] = [];
  if (!isPlainObject(o.spec) && o.spec !== undefined) return { object: o, written: o, changed, dropped };
  if (!DEFAULTED_KINDS.has(o.kind)) return { object: o, written: o, changed, dropped };
  const spec: Spec = clone(o.spec ?? {});
  let written = o;
  switch (o.kind) {
    case "VPC":
      defaultVpc(spec, changed, dropped);
      break;
    case "External":
      if (empty(spec.ipv4Namespace)) {
        spec.ipv4Namespace = "default";
        changed.push("spec.ipv4Namespace");
      }
      break;
    case "ExternalAttachment":
      // Go's non-pointer structs: the webhook's answer always carries them, `{}` when unset.
      for (const f of ["neighbor", "switch"]) {
        if (spec[f] === undefined || spec[f] === null) {
          spec[f] = {};
          changed.push(childPath("spec", f));
        }
      }
      break;
    case "VPCAttachment":
      if (spellSubnet(spec)) {
        changed.push("spec.subnet");
        written = { ...o, spec: { ...o.spec, subnet: spec.subnet } };
      }
      break;
    case "Switch":
      if (defaultSwitch(spec, changed)) {
        written = {
          ...o,
          spec: {
            ...o.spec,
            portSpeeds: clone(spec.portSpeeds),
            portGroupSpeeds: clone(spec.portGroupSpeeds),
          },
        };
        for (const f of ["portSpeeds", "portGroupSpeeds"]) {
          if (o.spec?.[f] === undefined) delete written.spec![f];
        }
      }
      break;
    default:
      return { object: o, written: o, changed, dropped };
  }
  return { object: { ...o, spec }, written, changed, dropped };
}
