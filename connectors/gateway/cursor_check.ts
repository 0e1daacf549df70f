/**
 * A resume cursor past the end of a topic is refused (400 with the reason), not held forever: a cursor ahead
 * of this gateway is normal (another gateway may have seen more), but one ahead of the broker itself, or naming
 * a partition the topic does not have, can never be satisfied. Local topics are checked against this gateway
 * when the cursor names it.
 */
import type { Cursor } from "./cursor.ts";
import type { LiveHub } from "./live.ts";

/** The reason `cursor` can never be resumed, or null when it can. `endOffsets` asks the broker. */
export async function cursorBeyondEnd(
  cursor: Cursor,
  hub: LiveHub,
  endOffsets: (topic: string) => Promise<number[]>,
): Promise<string | null> {
  const fix = "reconnect without a cursor for a fresh snapshot";
  for (const [topic, offsets] of Object.entries(cursor.p)) {
    const kind = hub.kind(topic);
    if (!kind) continue;
    if (kind === "local") {
      if (cursor.g !== hub.id) continue; // another gateway's local positions
      for (const [p, o] of offsets.entries()) {
        const end = hub.position(topic, p);
        if (o > end) {
          return `cursor is beyond the end of ${topic} partition ${p} (offset ${o}, end ${end}); ${fix}`;
        }
      }
      continue;
    }
    const seen = offsets.length <= hub.partitions(topic) &&
      offsets.every((o, p) => o <= hub.position(topic, p));
    if (seen) continue; // this gateway has seen it: no need to ask the broker
    const ends = await endOffsets(topic);
    if (offsets.length > ends.length) {
      return `cursor names partition ${
        offsets.length - 1
      } of ${topic}, which has ${ends.length} partition(s); ${fix}`;
    }
    for (const [p, o] of offsets.entries()) {
      if (o > ends[p]) {
        return `cursor is beyond the end of ${topic} partition ${p} (offset ${o}, the topic ends at ${
          ends[p]
        }); ${fix}`;
      }
    }
  }
  return null;
}
