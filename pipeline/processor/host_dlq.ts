/**
 * DLQ routing of a processor host's outputs: a record the broker can never accept ({@link RECORD_TOO_LARGE}:
 * larger than the topic's max.message.bytes) goes to the DLQ with the reason, its key and its headers (not
 * its bytes, which do not fit either), and the others are sent: one oversized record never wedges the
 * partition. (Records a processor fails on are routed by its task, see `task.ts`.)
 *
 * @module
 */
import { type ProduceRecord, RECORD_TOO_LARGE, type RecordMetadata } from "../broker/types.ts";
import { encode } from "../serde.ts";
import { LzError } from "../errors.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import type { Entry, HostState } from "./host_state.ts";

/** The DLQ record for an output record of `app` (task `partition`) that `topic` refused as too large. */
export function oversizeDlqRecord(
  app: string,
  partition: number,
  topic: string,
  r: ProduceRecord,
  err: Error,
  failedAt: string,
): ProduceRecord {
  return {
    key: `${topic}/${r.key ?? ""}`,
    value: encode(DLQ_TOPIC.name, {
      error: `a ${r.value?.byteLength ?? 0}-byte record of ${app} (task ${partition}) for ${topic} ` +
        `(key ${JSON.stringify(r.key)}) was not written: ${err.message}`,
      error_code: RECORD_TOO_LARGE,
      stage: app,
      attempts: 1,
      source: { topic, partition: -1, offset: -1 },
      original: { key: r.key, value_base64: null, headers: { ...r.headers } },
      failed_at: failedAt,
    }),
  };
}

/**
 * Sends `recs` to `topic` on the host's producer; records refused as too large go to the DLQ (counted in the
 * DLQ metric and the host's totals) and the rest are sent again. Any other error is thrown.
 */
export async function sendOrDlq(
  state: HostState,
  e: Entry,
  topic: string,
  recs: ProduceRecord[],
): Promise<RecordMetadata[]> {
  const producer = state.producer!;
  try {
    return await producer.send(topic, recs);
  } catch (err) {
    const indices = err instanceof LzError && err.code === RECORD_TOO_LARGE ? err.detail?.indices : undefined;
    if (!Array.isArray(indices) || indices.length === 0) throw err;
    const bad = new Set(indices as number[]);
    const failedAt = new Date(state.clock.now()).toISOString();
    const dead: ProduceRecord[] = recs.filter((_, i) => bad.has(i)).map((r) => {
      state.log.error("output record too large for the broker; sent to the DLQ", {
        partition: e.partition,
        topic,
        key: r.key,
        bytes: r.value?.byteLength ?? 0,
        error: (err as Error).message,
      });
      state.metrics.dlq(topic);
      state.totals.dlq++;
      return oversizeDlqRecord(state.app, e.partition, topic, r, err as Error, failedAt);
    });
    await producer.send(DLQ_TOPIC.name, dead);
    const rest = recs.filter((_, i) => !bad.has(i));
    return rest.length ? await sendOrDlq(state, e, topic, rest) : [];
  }
}
