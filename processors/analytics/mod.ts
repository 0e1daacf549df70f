/**
 * The analytics processor (layer 5): reads every declared topic and hands each record to the analytics
 * sinks (DuckDB, BigQuery), which the processor host flushes at each checkpoint before it commits offsets.
 * A punctuation on the injected clock runs the engines' scheduled SQL step (`daily_metrics`, daily
 * compliance) and, when a cost reader is given, raises or resolves the cost-spike alert. Whether a spike is
 * open (and the `opened_at` of its alert) is kept in the store `cost_spike`, so a restart or a moved task
 * resolves the open alert instead of opening it again. A replay drops the store: the task then takes the open
 * episode from what it last said, its own `lz.alerts.v1` read as a table at task start (so a spike that ended
 * meanwhile is resolved), and a spike found open anew is named by its first day (see `cost_spike.ts`), the
 * same alert as before.
 *
 * Topologies need co-partitioned inputs, so the topics are grouped by partition count: `lzsync-analytics`
 * reads the one-partition topics (all of them by default), `lzsync-analytics-p<N>` those with N partitions.
 */
import type {
  InputRecord,
  Processor,
  ProcessorContext,
  TableSpec,
  Topology,
} from "../../pipeline/processor/types.ts";
import type { AnalyticsSink } from "../../pipeline/analytics/sink.ts";
import { analyticsTopics } from "../../pipeline/analytics/tables.ts";
import { type Alert, ALERTS_TOPIC } from "../../schemas/alerts.ts";
import { COST_SPIKE_ALERT_ID, type CostCheck, costSpikeAlert, type OpenSpike } from "./cost_spike.ts";

/** Application id of the analytics group of one-partition topics (persisted contract). */
export const ANALYTICS_APP = "lzsync-analytics";

/**
 * The store of the open cost spike, by alert id (`{opened_at}`; no entry: none open) in the topology that runs
 * the check (persisted contract: never rename).
 */
export const COST_SPIKE_STORE = "cost_spike";

/** What the analytics topologies are built from. */
export interface AnalyticsOptions {
  sinks: AnalyticsSink[];
  /** Partition count per topic (runtime overrides); declared counts by default. */
  partitions?: ReadonlyMap<string, number>;
  /** How often (clock ms) daily tables are recomputed (default 60 s). */
  dailyEveryMs?: number;
  /** Cost-spike check after each daily refresh (none: no alert). */
  costs?: CostCheck;
  /** Only these topics (default: every analytics topic); tests restrict to the topics they produce. */
  topics?: string[];
}

/** One task's processor. Only partition 0's task runs the scheduled step (once per group). */
export function createAnalyticsProcessor(opts: AnalyticsOptions & { scheduled?: boolean }): Processor {
  let seeded = false;
  return {
    init(ctx: ProcessorContext) {
      if (ctx.partition !== 0 || opts.scheduled === false) return;
      ctx.schedule(opts.dailyEveryMs ?? 60_000, async (now) => {
        for (const s of opts.sinks) await s.refreshDaily(now);
        if (!opts.costs) return;
        const store = ctx.store<OpenSpike>(COST_SPIKE_STORE);
        const id = opts.costs.alertId ?? COST_SPIKE_ALERT_ID;
        if (!seeded) {
          // No entry after a replay (the store dropped): the episode the alerts topic still shows open.
          seeded = true;
          const said = ctx.table<OpenSpike>(ALERTS_TOPIC.name).get(id);
          if (said && !store.has(id)) store.put(id, { opened_at: said.opened_at });
        }
        const alert = await costSpikeAlert(opts.costs, now, store.get(id) ?? null);
        if (!alert) return;
        if (alert.state === "open") store.put(id, { opened_at: alert.opened_at });
        else store.delete(id);
        ctx.forward(ALERTS_TOPIC.name, alert.id, alert);
      });
    },
    process(r: InputRecord, _ctx: ProcessorContext) {
      const rec = {
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key: r.key,
        value: r.value,
      };
      for (const s of opts.sinks) s.add(rec);
    },
  };
}

/** What the alerts topic shows of the cost spike `id`: its episode's opened_at while it is open. */
function openSpikeTable(id: string): TableSpec {
  return {
    topic: ALERTS_TOPIC.name,
    select: (v) => {
      const a = v as Alert;
      return a.id === id && a.state === "open" ? { opened_at: a.opened_at } satisfies OpenSpike : undefined;
    },
  };
}

/** The analytics topologies, one per partition count among the analytics topics. */
export function analyticsTopologies(opts: AnalyticsOptions): Topology[] {
  const groups = new Map<number, string[]>();
  for (const t of analyticsTopics()) {
    if (opts.topics && !opts.topics.includes(t.name)) continue;
    const n = opts.partitions?.get(t.name) ?? t.partitions;
    let l = groups.get(n);
    if (!l) groups.set(n, l = []);
    l.push(t.name);
  }
  return [...groups].sort((a, b) => a[0] - b[0]).map(([n, inputs], i) => ({
    app: n === 1 ? ANALYTICS_APP : `${ANALYTICS_APP}-p${n}`,
    inputs,
    stores: i === 0 && opts.costs ? [COST_SPIKE_STORE] : [],
    outputs: i === 0 && opts.costs ? [ALERTS_TOPIC.name] : [],
    tables: i === 0 && opts.costs ? [openSpikeTable(opts.costs.alertId ?? COST_SPIKE_ALERT_ID)] : [],
    create: () => createAnalyticsProcessor({ ...opts, scheduled: i === 0 }),
    sinks: opts.sinks,
    description: `writes ${inputs.length} topics to the analytics tables (${
      opts.sinks.map((s) => s.name).join(", ")
    })`,
  }));
}
