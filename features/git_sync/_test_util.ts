/** Helpers of the git connector's tests: reading a topic back, waiting for syncs. */
import type { Broker, ConsumedRecord } from "../../pipeline/broker/types.ts";
import { decode } from "../../pipeline/serde.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import type { SyncResult } from "./syncer.ts";

/** Every record of `topic` so far, decoded. */
export async function readAll<V = unknown>(
  broker: Broker,
  topic: string,
): Promise<(Omit<ConsumedRecord, "value"> & { value: V | null })[]> {
  const out: (Omit<ConsumedRecord, "value"> & { value: V | null })[] = [];
  await readTopicToEnd(broker, topic, (r) => out.push({ ...r, value: decode<V>(topic, r.value) }));
  return out;
}

/** A queue of finished syncs: pass `push` as `onSynced`, then `await next()`. */
export function syncQueue(timeoutMs = 15_000) {
  const done: SyncResult[] = [];
  const waiters: ((r: SyncResult) => void)[] = [];
  return {
    push(r: SyncResult) {
      const w = waiters.shift();
      if (w) w(r);
      else done.push(r);
    },
    next(): Promise<SyncResult> {
      const r = done.shift();
      if (r) return Promise.resolve(r);
      let timer: ReturnType<typeof setTimeout>;
      return Promise.race([
        new Promise<SyncResult>((res) => waiters.push((x) => (clearTimeout(timer), res(x)))),
        new Promise<SyncResult>((_, rej) => {
          timer = setTimeout(() => rej(new Error(`no sync finished within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    },
  };
}
