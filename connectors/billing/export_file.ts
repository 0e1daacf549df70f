/**
 * Reads a Cloud Billing export for air-gapped runs: the rows of the standard BigQuery billing export table
 * (`gcp_billing_export_v1_*`) as newline-delimited JSON, the way `bq extract --destination_format
 * NEWLINE_DELIMITED_JSON` or a query exported as JSON writes them. Each usable line becomes one
 * `lz.billing.costs.v1` value keyed by the SHA-256 of the line, so reading the same export twice produces the
 * same keys; a line that is not a billing row is reported with its number and reason, never dropped silently.
 */
import type { BillingCost } from "../../schemas/billing.ts";

/** One usable export row. */
export interface BillingRow {
  key: string;
  value: BillingCost;
}

/** A line that is not a billing row. */
export interface BillingLineError {
  /** 1-based line number. */
  line: number;
  text: string;
  error: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** `2026-11-01T00:00:00Z`, `2026-11-01 00:00:00 UTC`, `2026-11-01 00:00:00.123456+00` → ISO-8601, or null. */
export function billingTime(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const s = v.trim().replace(/ UTC$/, "Z").replace(" ", "T").replace(/\+00(:?00)?$/, "Z");
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

const num = (v: unknown): number | null => {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
};
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

async function sha256(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The billing value of one export row, or the reason it is not one. */
export function billingValue(row: unknown): BillingCost | string {
  if (!isObj(row)) return "not a JSON object";
  const account = str(row.billing_account_id);
  if (!account) return "billing_account_id is missing";
  const start = billingTime(row.usage_start_time);
  const end = billingTime(row.usage_end_time);
  if (!start || !end) return "usage_start_time / usage_end_time are missing or not timestamps";
  const cost = num(row.cost);
  if (cost === null) return "cost is missing or not a number";
  const currency = str(row.currency);
  if (!currency) return "currency is missing";
  let credits = 0;
  if (row.credits !== undefined && row.credits !== null) {
    if (!Array.isArray(row.credits)) return "credits is not an array";
    for (const c of row.credits) {
      const a = isObj(c) ? num(c.amount) : null;
      if (a === null) return "a credit has no numeric amount";
      credits += a;
    }
  }
  const part = (k: string) => (isObj(row[k]) ? row[k] as Obj : {});
  return {
    billing_account_id: account,
    service_id: str(part("service").id),
    service_description: str(part("service").description),
    sku_id: str(part("sku").id),
    sku_description: str(part("sku").description),
    project_id: str(part("project").id),
    project_name: str(part("project").name),
    location: str(part("location").location) ?? str(part("location").region),
    usage_start_time: start,
    usage_end_time: end,
    cost,
    credits: Math.round(credits * 1e6) / 1e6,
    currency,
    invoice_month: str(part("invoice").month),
    cost_type: str(row.cost_type),
    export_time: billingTime(row.export_time),
  };
}

/** Parses an export file's text: the usable rows (keyed by line digest) and the lines that are not. */
export async function parseBillingExport(
  text: string,
): Promise<{ rows: BillingRow[]; bad: BillingLineError[] }> {
  const rows: BillingRow[] = [];
  const bad: BillingLineError[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      bad.push({ line: i + 1, text: line, error: `not JSON: ${(err as Error).message}` });
      continue;
    }
    const v = billingValue(parsed);
    if (typeof v === "string") {
      bad.push({ line: i + 1, text: line, error: v });
      continue;
    }
    const key = await sha256(line);
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ key, value: v });
  }
  return { rows, bad };
}
