import assert from "node:assert/strict";
import type { Plan } from "../../processors/fgd/plan_types.ts";
import type { RunSummary } from "../../schemas/fgd.ts";
import { FGD_RESULTS_TOPIC } from "../../schemas/fgd.ts";
import { validate } from "../../pipeline/serde.ts";
import { resultRecords } from "./records.ts";

const run = (commit: string | null): RunSummary => ({
  sync_id: "fgd-f-1",
  trigger: "api",
  outcome: commit ? "committed" : "unchanged",
  started_at: "2026-12-04T22:00:00.000Z",
  finished_at: "2026-12-04T22:00:01.500Z",
  duration_ms: 1500,
  attempts: 1,
  base: null,
  commit,
  files: 2,
  created: 1,
  updated: 0,
  rejected: 1,
  error: null,
});

const finding = {
  rule: "structure.name",
  layer: "structure" as const,
  severity: "error" as const,
  doc: 1,
  path: "metadata.name",
  message: 'name "Bad\\Name\n\u2028ü" is not lowercase RFC 1123: "quoted"',
};

const plan = {
  files: [
    {
      path: "raw/a.yaml",
      outcome: "ingested",
      targets: ["managed/vpcs/v1.yaml", "managed/vpcs/v 2.yaml"],
      findings: [],
    },
    {
      path: 'raw/"odd"\tname ü.yaml',
      outcome: "unmanaged",
      targets: [],
      findings: [finding, { ...finding, doc: -1 }],
    },
  ],
  objects: [
    {
      key: "k",
      kind: "VPC",
      name: "v1",
      source: "raw/a.yaml",
      document: 0,
      outcome: "created",
      path: "managed/vpcs/v1.yaml",
      findings: [],
    },
    { source: 'raw/"odd"\tname ü.yaml', document: 1, outcome: "rejected", findings: [finding] },
  ],
} as unknown as Plan;

Deno.test("resultRecords: each record's JSON is JSON.stringify of the record, byte for byte", () => {
  for (const commit of ["0123456789abcdef0123456789abcdef01234567", null]) {
    for (const p of [plan, undefined]) {
      const { records, json } = resultRecords("f\u00e9", 'fgd-f-"1"', run(commit), p, "fabrics/x");
      assert.equal(records.length, p ? 5 : 1);
      assert.equal(json.length, records.length);
      for (let i = 0; i < records.length; i++) {
        assert.equal(json[i], JSON.stringify(records[i]));
        validate(FGD_RESULTS_TOPIC.name, records[i]);
      }
      assert.deepEqual(records.map((r) => r.type), p ? ["run", "file", "file", "object", "object"] : ["run"]);
    }
  }
});

Deno.test("resultRecords: a field that is not JSON leaves the record's JSON to JSON.stringify (its key dropped)", () => {
  const odd = { ...plan, files: [{ ...plan.files[0], targets: undefined }], objects: [] } as unknown as Plan;
  const { records, json } = resultRecords("f", "s", run(null), odd, "fabrics/x");
  assert.equal(json[1], JSON.stringify(records[1]));
  assert.ok(!json[1].includes('"targets"'));
});
