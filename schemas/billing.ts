/**
 * `lz.billing.costs.v1`: Cloud Billing cost rows, read from the standard BigQuery billing export (the table,
 * or its NDJSON export file for air-gapped runs) by `connectors/billing/`, flattened to what analytics sums.
 * Keyed by a digest of the export row, so reading the same export twice changes nothing downstream.
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

const Time = () => Type.String({ format: "date-time" });
const NullableString = () => Type.Union([Type.String(), Type.Null()]);

export const BillingCost = Type.Object({
  billing_account_id: Type.String(),
  service_id: NullableString(),
  service_description: NullableString(),
  sku_id: NullableString(),
  sku_description: NullableString(),
  project_id: NullableString(),
  project_name: NullableString(),
  location: NullableString(),
  usage_start_time: Time(),
  usage_end_time: Time(),
  cost: Type.Number({ description: "cost before credits, in `currency`" }),
  credits: Type.Number({ description: "sum of credits[].amount (zero or negative)" }),
  currency: Type.String(),
  invoice_month: NullableString(),
  cost_type: NullableString(),
  export_time: Type.Union([Time(), Type.Null()]),
}, { additionalProperties: false });
export type BillingCost = Static<typeof BillingCost>;

export const BILLING_TOPIC = defineTopic({
  name: "lz.billing.costs.v1",
  schema: BillingCost,
  compacted: true,
  partitions: 1,
  key: "digest of the export row",
  description: "Cloud Billing export rows (cost, credits, service, SKU, project, usage time).",
});
