/**
 * What the crash test feeds the pipeline: a Landing Zone repo with docs, the Hedgehog CRDs and a fabric whose
 * `raw/` holds valid and invalid drops, the files a concurrent committer adds while lzsync is killed, and the
 * Cloud Asset inventories the asset polls see. Every raw file is recorded with where it must end up.
 */
import { FABRIC_YAML } from "../../../processors/fgd/testdata/mod.ts";
import { crdRepoFiles } from "../../../features/fabrics/_test_util.ts";
import { inventory } from "../../../connectors/cloud_asset/test_inventory.ts";
import type { RestAsset } from "../../../connectors/cloud_asset/rest_test_server.ts";

/** The fabric of the test and its directory in the repo. */
export const FABRIC_ID = "dc1";
export const FABRIC_DIR = "fabrics/dc1";
export const CRD_DIR = "fabrics/crds/hedgehog";

/** A raw file dropped into the fabric, and what it must become. */
export interface RawDrop {
  /** Path under the fabric directory, e.g. `raw/vpc-c3.yaml`. */
  path: string;
  /** `managed`: the objects (`<plural>/<name>`) it holds; `unmanaged`: refused as a whole. */
  expect: "managed" | "unmanaged";
  objects: string[];
}

/** A small seeded PRNG (mulberry32), so a failing run can be repeated with its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Drop `n`'s own subnet: a /27 of 10.0.100.0–10.0.255.255 (inside the fabric's IPv4Namespace 10.0.0.0/16, clear
 * of its VPCs), distinct for every n below 1000, so no two drops overlap — an overlap is found only by a rule
 * over the whole directory, whose result depends on what else was there when the file was validated.
 */
function subnetOf(n: number): string {
  // and VLAN 2000 + n must stay in the VLANNamespace's 1000-2999
  if (!(n >= 0 && n < 1000)) throw new RangeError(`drop ${n}: the fixture has 1000 distinct drops`);
  return `10.0.${100 + (n >> 3)}.${(n & 7) * 32}/27`;
}

/** A valid VPC drop number `n` (its own subnet and VLAN), or an invalid one (a name the admission refuses). */
export function drop(n: number, valid: boolean): { drop: RawDrop; text: string } {
  if (!valid) {
    return {
      drop: { path: `raw/bad-${n}.yaml`, expect: "unmanaged", objects: [] },
      text: [
        "apiVersion: vpc.githedgehog.com/v1beta1",
        "kind: VPC",
        "metadata:",
        `  name: Bad_Name_${n}`,
        "spec:",
        "  subnets:",
        "    default:",
        `      subnet: ${subnetOf(n)}`,
        "",
      ].join("\n"),
    };
  }
  const name = `vpc-c${n}`;
  return {
    drop: { path: `raw/${name}.yaml`, expect: "managed", objects: [`vpcs/${name}`] },
    text: [
      "apiVersion: vpc.githedgehog.com/v1beta1",
      "kind: VPC",
      "metadata:",
      `  name: ${name}`,
      "spec:",
      "  ipv4Namespace: default",
      "  vlanNamespace: default",
      "  subnets:",
      "    default:",
      `      subnet: ${subnetOf(n)}`,
      `      vlan: ${2000 + n}`,
      "",
    ].join("\n"),
  };
}

/** The initial repo: docs, pmo.yaml, the CRDs, the sample fabric in `raw/base.yaml`, plus `valid`+`invalid` drops. */
export function initialRepo(
  valid: number,
  invalid: number,
): { files: Record<string, string>; drops: RawDrop[] } {
  const files: Record<string, string> = {
    "docs/index.md": "# Landing Zone\n",
    "docs/runbook.md": "# Runbook\n",
    "pmo.yaml": "project: crash-test\n",
    ...crdRepoFiles(CRD_DIR),
    [`${FABRIC_DIR}/raw/base.yaml`]: FABRIC_YAML,
  };
  const drops: RawDrop[] = [{ path: "raw/base.yaml", expect: "managed", objects: [] }];
  for (let i = 0; i < valid + invalid; i++) {
    const d = drop(i, i < valid);
    files[`${FABRIC_DIR}/${d.drop.path}`] = d.text;
    drops.push(d.drop);
  }
  return { files, drops };
}

/** The inventory of poll round `round`: the size and the update times move, so polls create, update, delete. */
export function assetsAt(round: number): RestAsset[] {
  const t = new Date(Date.UTC(2024, 4, 1, 10, round)).toISOString();
  return inventory(8 + (round % 5), "web-prod", t);
}
