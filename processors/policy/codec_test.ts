/** The policy store's changelog text (format 1) is built as text: the same bytes as the readable object's JSON. */
import assert from "node:assert/strict";
import { policyAssetCodec, policyAssetText, policyAssetToV1 } from "./codec.ts";
import { NOT_EVALUATED, PASSED, type PolicyAsset } from "./processor.ts";

const entries: PolicyAsset[] = [
  {
    a: {
      t: "compute.googleapis.com/Instance",
      p: "proj-0",
      n: "100000",
      l: "asia-east1-a",
      b: { env: "dev" },
    },
    r: {
      "cis-gcp-4.4-os-login": PASSED,
      "cis-gcp-4.9-vm-public-ip": {
        p: 0,
        fs: "2024-05-01T10:00:00.000Z",
        ls: "2024-05-02T10:00:00.000Z",
        msg: 'instance "vm-0" has an external IP (34.1.2.3)\n\u00e9\u2028',
        sev: "medium",
        title: "VM with a public IP address",
        bm: ["CIS GCP 4.9"],
      },
      "lz:no-public": {
        p: 0,
        lz: 1,
        fs: "2024-05-01T10:00:00.000Z",
        ls: "2024-05-01T10:00:00.000Z",
        msg: "x",
        sev: "high",
        title: "no-public",
        bm: ["Landing Zone policy"],
      },
      "gov-region": NOT_EVALUATED,
      "unshared-pass": { p: 1 },
      "unshared-ne": { p: 1, ne: 1 },
      "kept-failing-ne": { p: 0, ne: 1, fs: "2024-05-01T10:00:00.000Z", ls: "2024-05-01T10:00:00.000Z" },
      'odd "id"\\': PASSED,
    },
  },
  { a: { t: "storage.googleapis.com/Bucket", p: null, n: null, l: null, x: 1 }, r: {} },
  { a: { t: "t", p: "p", n: "1", l: "global", b: { 'k"\u0001': "v\u{1F600}", "": "" } }, r: { a: PASSED } },
];

Deno.test("policy codec: the format-1 text is exactly JSON.stringify of the readable form, and decodes back", () => {
  for (const e of entries) {
    const text = policyAssetText(e);
    assert.equal(text, JSON.stringify(policyAssetToV1(e)));
    assert.equal(policyAssetCodec.encode(e), text);
    const back = policyAssetCodec.decode(JSON.parse(text), policyAssetCodec.version);
    assert.deepEqual(back, e);
  }
  // passing results decode to the shared frozen objects the processor uses
  const back = policyAssetCodec.decode(JSON.parse(policyAssetText(entries[0])), 1);
  assert.equal(back.r["cis-gcp-4.4-os-login"], PASSED);
  assert.equal(back.r["unshared-pass"], PASSED);
  assert.equal(back.r["gov-region"], NOT_EVALUATED);
});
