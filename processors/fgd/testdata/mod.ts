/** Test helpers: the Hedgehog CRDs shipped with the sample Landing Zone and the sample fabric documents. */
import { parseAllDocuments } from "yaml";
import { type CrdFile, type CrdIndex, loadCrds } from "../crd.ts";
import type { KubeObject } from "../object.ts";

/** Directory of the Hedgehog CRD files (`deploy/sample-lz/fabrics/crds/hedgehog`). */
export const HEDGEHOG_CRD_DIR = new URL("../../../deploy/sample-lz/fabrics/crds/hedgehog/", import.meta.url);

/** Reads every `*.yaml` CRD file of the Hedgehog set. */
export function hedgehogCrdFiles(): CrdFile[] {
  const out: CrdFile[] = [];
  for (const e of Deno.readDirSync(HEDGEHOG_CRD_DIR)) {
    if (e.name.endsWith(".yaml")) {
      out.push({ path: e.name, text: Deno.readTextFileSync(new URL(e.name, HEDGEHOG_CRD_DIR)) });
    }
  }
  return out;
}

/** The loaded Hedgehog CRD index. */
export function hedgehogCrds(): CrdIndex {
  return loadCrds(hedgehogCrdFiles());
}

/** The text of `testdata/fabric.yaml`: one valid object of every Hedgehog kind. */
export const FABRIC_YAML = Deno.readTextFileSync(new URL("./fabric.yaml", import.meta.url));

/** The text of `testdata/fabric_more.yaml`: one valid object of every other v0.126.0 kind (gateway, DHCP, agent). */
export const FABRIC_MORE_YAML = Deno.readTextFileSync(new URL("./fabric_more.yaml", import.meta.url));

/** The documents of `testdata/fabric_more.yaml`, freshly decoded (safe to mutate). */
export function moreObjects(): KubeObject[] {
  return parseAllDocuments(FABRIC_MORE_YAML).map((d) => d.toJS() as KubeObject);
}

/** The documents of `testdata/fabric.yaml`, freshly decoded (safe to mutate). */
export function fabricObjects(): KubeObject[] {
  return parseAllDocuments(FABRIC_YAML).map((d) => d.toJS() as KubeObject);
}

/** The text of `testdata/spine_leaf.yaml`: a valid spine-leaf fabric with SwitchProfiles, for directory-wide rules. */
export const SPINE_LEAF_YAML = Deno.readTextFileSync(new URL("./spine_leaf.yaml", import.meta.url));

/** The documents of `testdata/spine_leaf.yaml`, freshly decoded (safe to mutate). */
export function spineLeafObjects(): KubeObject[] {
  return parseAllDocuments(SPINE_LEAF_YAML).map((d) => d.toJS() as KubeObject);
}
