/**
 * Reads a (compacted) topic from its earliest offset up to the high offsets seen at the call, then stops:
 * how the git fetcher restores its resume point, the webhook rebuilds its dedupe window and the FGD manager
 * its registrations; tests read a topic back with it.
 */
import type { Broker, ConsumedRecord, GroupOffset } from "./types.ts";
import { LzError } from "../errors.ts";

/** Calls `onRecord` for every record of `topic` up to the current end; `tail` limits it to the last N per partition. */
export async function readTopicToEnd(
  broker: Broker,
  topic: string,
  onRecord: (r: ConsumedRecord) => void,
  options: { tail?: number; timeoutMs?: number } = {},
): Promise<number> {
  const offsets = await broker.admin().topicOffsets(topic);
  const end = new Map<number, number>();
  const from: GroupOffset[] = [];
  for (const o of offsets) {
    const start = options.tail === undefined ? o.low : Math.max(o.low, o.high - options.tail);
    from.push({ topic, partition: o.partition, offset: start });
    if (start < o.high) end.set(o.partition, o.high);
  }
  if (end.size === 0) return 0;
  let count = 0;
  const reader = broker.reader({ topics: [topic], from });
  let done!: () => void;
  let fail!: (err: unknown) => void;
  const finished = new Promise<void>((res, rej) => {
    done = res;
    fail = rej;
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(
      () =>
        rej(
          new LzError("READ_TIMEOUT", `reading ${topic} to its end took over ${timeoutMs} ms`, {
            retriable: true,
          }),
        ),
      timeoutMs,
    );
  });
  try {
    await reader.run((batch) => {
      const stop = end.get(batch.partition);
      if (stop === undefined) return Promise.resolve();
      try {
        for (const r of batch.records) {
          if (r.offset >= stop) break;
          onRecord(r);
          count++;
        }
      } catch (err) {
        fail(err);
        return Promise.resolve();
      }
      if (batch.records.length && batch.records[batch.records.length - 1].offset >= stop - 1) {
        end.delete(batch.partition);
        if (end.size === 0) done();
      }
      return Promise.resolve();
    });
    await Promise.race([finished, timeout]);
  } finally {
    clearTimeout(timer);
    await reader.stop();
  }
  return count;
}
