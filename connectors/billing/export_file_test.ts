import assert from "node:assert/strict";
import { validate } from "../../pipeline/serde.ts";
import { BILLING_TOPIC } from "../../schemas/billing.ts";
import { billingTime, parseBillingExport } from "./export_file.ts";
import { SAMPLE_BILLING_EXPORT } from "./service.ts";

Deno.test("billing export: the sample's 210 rows parse and validate, credits summed, same text same keys", async () => {
  const text = await Deno.readTextFile(SAMPLE_BILLING_EXPORT);
  const { rows, bad } = await parseBillingExport(text);
  assert.deepEqual([rows.length, bad.length], [210, 0]);
  for (const r of rows) validate(BILLING_TOPIC.name, r.value);
  const first = rows[0].value;
  assert.equal(first.usage_start_time, "2026-10-30T00:00:00.000Z");
  assert.equal(first.service_description, "Compute Engine");
  assert.ok(first.credits < 0 && first.credits > -first.cost);
  assert.equal(first.export_time, "2026-10-31T06:12:31.512Z");
  const again = await parseBillingExport(text);
  assert.deepEqual(again.rows.map((r) => r.key), rows.map((r) => r.key));
  assert.equal(new Set(rows.map((r) => r.key)).size, 210);
});

Deno.test("billing export: lines that are not billing rows are reported with their number and reason", async () => {
  const good = (await Deno.readTextFile(SAMPLE_BILLING_EXPORT)).split("\n")[0];
  const text = [good, "{not json", JSON.stringify({ billing_account_id: "a", cost: 1 }), good, "", "[1]"]
    .join("\n");
  const { rows, bad } = await parseBillingExport(text);
  assert.equal(rows.length, 1, "a repeated line is one row");
  assert.deepEqual(bad.map((b) => b.line), [2, 3, 6]);
  assert.match(bad[0].error, /not JSON/);
  assert.match(bad[1].error, /usage_start_time/);
  assert.match(bad[2].error, /not a JSON object/);
});

Deno.test("billing timestamps: BigQuery's text forms and ISO-8601", () => {
  assert.equal(billingTime("2026-11-01 00:00:00 UTC"), "2026-11-01T00:00:00.000Z");
  assert.equal(billingTime("2026-11-01 10:00:00.123456+00"), "2026-11-01T10:00:00.123Z");
  assert.equal(billingTime("2026-11-01T10:00:00Z"), "2026-11-01T10:00:00.000Z");
  assert.equal(billingTime("yesterday"), null);
  assert.equal(billingTime(17), null);
});
