/** Helpers of the planner step tests: real candidates from YAML text, a working plan over a snapshot. */
import { DEFAULT_LIMITS } from "./parse_file.ts";
import { type Candidate, scanRawFile } from "./plan_scan.ts";
import { WorkingPlan } from "./plan_work.ts";
import { fileRef, newPlanCache, snapshotOf } from "./snapshot.ts";
import { Validator } from "./validate.ts";
import { hedgehogCrds } from "./testdata/mod.ts";

/** The Hedgehog validator the planner tests use. */
export const validator = new Validator(hedgehogCrds(), ["hedgehog"]);

/** A VPC document named `name` with one subnet. */
export function vpcYaml(name: string, octet: number): string {
  return `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: ${name}
spec:
  subnets:
    default:
      subnet: 10.0.${octet}.0/24
      vlan: ${1000 + octet}
`;
}

/** The pass-1 candidates of `text` as the raw file `source` (each document valid on its own). */
export function candidatesOf(text: string, source = "raw/drop.yaml"): Candidate[] {
  const scan = scanRawFile(source, fileRef(text), validator, DEFAULT_LIMITS);
  if (scan.rejected.length || scan.fileFindings) throw new Error(`${source} does not validate on its own`);
  return scan.candidates;
}

/** A working plan over the snapshot of `files`, with an empty cache. */
export function workOver(files: Record<string, string | Uint8Array> = {}): WorkingPlan {
  return new WorkingPlan(snapshotOf(files), newPlanCache());
}
