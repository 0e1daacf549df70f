/**
 * The cost source of layer 5: reads a Cloud Billing export file (`analytics.billing.export_file`, default the
 * sample Landing Zone's `deploy/sample-lz/billing/export.ndjson`) at start and every
 * `analytics.billing.interval`, and produces its rows to `lz.billing.costs.v1` (keyed by line digest, so a
 * re-read changes nothing downstream). An unchanged file (same SHA-256) is not produced again; a line that is
 * not a billing row goes to `lz.dlq.v1` with its line number and reason, once per file version.
 */
import { fileURLToPath } from "node:url";
import type { Broker, Producer } from "../../pipeline/broker/types.ts";
import type { Clock } from "../../pipeline/processor/types.ts";
import type { Logger } from "../../pipeline/log.ts";
import type { Service } from "../../pipeline/service.ts";
import { describeError } from "../../pipeline/errors.ts";
import { encode } from "../../pipeline/serde.ts";
import { BILLING_TOPIC } from "../../schemas/billing.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import { parseBillingExport } from "./export_file.ts";

/** The sample export loaded on a first run. */
export const SAMPLE_BILLING_EXPORT = fileURLToPath(
  new URL("../../deploy/sample-lz/billing/export.ndjson", import.meta.url),
);

/** What the billing source needs. */
export interface BillingServiceOptions {
  path: string;
  broker: Broker;
  log: Logger;
  clock: Clock;
  intervalMs: number;
}

/** The service, and one read now (tests). */
export interface BillingService extends Service {
  /** Reads the file; returns rows produced and bad lines (0, 0 for an unchanged file). */
  readNow(): Promise<{ rows: number; bad: number }>;
}

const b64 = (text: string) => {
  let s = "";
  for (const b of new TextEncoder().encode(text)) s += String.fromCharCode(b);
  return btoa(s);
};

async function digest(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Builds the billing source. */
export function createBillingService(o: BillingServiceOptions): BillingService {
  const log = o.log.child("billing", { path: o.path });
  let producer: Producer | undefined;
  let lastHash: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  async function once(): Promise<{ rows: number; bad: number }> {
    const bytes = await Deno.readFile(o.path);
    const hash = await digest(bytes);
    if (hash === lastHash) return { rows: 0, bad: 0 };
    const { rows, bad } = await parseBillingExport(new TextDecoder().decode(bytes));
    for (let i = 0; i < rows.length; i += 500) {
      await producer!.send(
        BILLING_TOPIC.name,
        rows.slice(i, i + 500).map((r) => ({ key: r.key, value: encode(BILLING_TOPIC.name, r.value) })),
      );
    }
    if (bad.length) {
      const at = new Date(o.clock.now()).toISOString();
      await producer!.send(
        DLQ_TOPIC.name,
        bad.map((e) => ({
          key: `file:${o.path}/${e.line}`,
          value: encode(DLQ_TOPIC.name, {
            error: e.error,
            error_code: "VALIDATION",
            stage: "billing.export",
            attempts: 1,
            source: { topic: `file:${o.path}`, partition: -1, offset: e.line },
            original: { key: null, value_base64: b64(e.text), headers: {} },
            failed_at: at,
          }),
        })),
      );
    }
    lastHash = hash;
    log.info("billing export loaded", { rows: rows.length, bad_lines: bad.length });
    return { rows: rows.length, bad: bad.length };
  }

  const readNow = () => {
    const r = running.then(once, once);
    running = r.catch(() => {});
    return r;
  };
  const tick = () => {
    readNow().catch((err) => log.error("billing export read failed", { error: describeError(err) })).finally(
      () => {
        if (!stopped) timer = setTimeout(tick, o.intervalMs);
      },
    );
  };

  return {
    name: "billing",
    topics: { writes: [BILLING_TOPIC.name, DLQ_TOPIC.name] },
    async start() {
      producer = await o.broker.producer();
      await o.broker.admin().createTopics([BILLING_TOPIC, DLQ_TOPIC].map((t) => ({
        name: t.name,
        partitions: t.partitions,
        compacted: t.compacted,
      })));
      tick();
    },
    readNow,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
      await producer?.close();
    },
  };
}
