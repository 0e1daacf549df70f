import assert from "node:assert/strict";
import { silentLogger } from "../../pipeline/log.ts";
import { openDuckDb } from "../../connectors/duckdb/engine.ts";
import { billingRecord, DAY, T0 } from "../../connectors/duckdb/_fixtures.ts";
import { costSpikeAlert } from "./cost_spike.ts";

Deno.test("costSpikeAlert() names a spike running for days by its first day, and its resolve by the same", async () => {
  const db = await openDuckDb({ path: ":memory:", log: silentLogger });
  const costs = [10, 10, 10, 10, 10, 10, 10, 100, 200];
  try {
    costs.forEach((c, d) => db.add(billingRecord(d, `c${d}`, T0 + d * DAY, c)));
    await db.flush();
    const now = T0 + 9 * DAY;
    await db.refreshDaily(now);
    const check = { reader: db, ratio: 1.5, trailingDays: 7 };
    // what a rebuild finds on the second spike day (the store dropped): the episode that began the day before
    const open = await costSpikeAlert(check, now, null);
    assert.equal(open?.state, "open");
    assert.equal(open?.opened_at, "2026-11-08T00:00:00.000Z");
    assert.match(open!.message, /2026-11-09 was 200\.00/);
    assert.equal(await costSpikeAlert(check, now + 60_000, null).then((a) => a?.opened_at), open?.opened_at);
    assert.equal(await costSpikeAlert(check, now, { opened_at: open!.opened_at }), null, "still open");
    db.add(billingRecord(9, "c9", T0 + 9 * DAY, 10));
    await db.flush();
    await db.refreshDaily(now + DAY);
    // an episode the data has not reached yet (a rebuild under way) is not judged
    assert.equal(await costSpikeAlert(check, now + DAY, { opened_at: "2026-11-11T00:00:00.000Z" }), null);
    const resolved = await costSpikeAlert(check, now + DAY, { opened_at: open!.opened_at });
    assert.equal(resolved?.state, "resolved");
    assert.equal(resolved?.opened_at, open?.opened_at);
    assert.equal(resolved?.resolved_at, new Date(now + DAY).toISOString());
  } finally {
    await db.close();
  }
});
