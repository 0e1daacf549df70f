/**
 * The analytics processor (layer 5): reads every declared topic and hands each record to the analytics
 * sinks (DuckDB, BigQuery), which the processor host flushes at each checkpoint before it commits offsets.
 * A punctuation on the injected clock runs the engines' scheduled SQL step (`daily_metrics`, daily
 * compliance) and, when a cost reader is given, raises or resolves the cost-spike alert.
 *
 * Topologies need co-partitioned inputs, so the topics are grouped by partition count: `lzsync-analytics`
 * reads the one-partition topics (all of them by default), `lzsync-analytics-p<N>` those with N partitions.
 */
import type { InputRecord, Processor, ProcessorContext, Topology } from "../../pipeline/processor/types.ts";
import type { AnalyticsSink } from "../../pipeline/analytics/sink.ts";
import { analyticsTopics } from "../../pipeline/analytics/tables.ts";
import { ALERTS_TOPIC } from "../../schemas/alerts.ts";
import { type CostCheck, costSpikeAlert } from "./cost_spike.ts";

/** Application id of the analytics group of one-partition topics (persisted contract). */
export const ANALYTICS_APP = "lzsync-analytics";

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
  let open = false;
  return {
    init(ctx: ProcessorContext) {
      if (ctx.partition !== 0 || opts.scheduled === false) return;
      ctx.schedule(opts.dailyEveryMs ?? 60_000, async (now) => {
        for (const s of opts.sinks) await s.refreshDaily(now);
        if (!opts.costs) return;
        const alert = await costSpikeAlert(opts.costs, now, open);
        if (alert) {
          open = alert.state === "open";
          ctx.forward(ALERTS_TOPIC.name, alert.id, alert);
        }
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
    stores: [],
    outputs: i === 0 && opts.costs ? [ALERTS_TOPIC.name] : [],
    create: () => createAnalyticsProcessor({ ...opts, scheduled: i === 0 }),
    sinks: opts.sinks,
    description: `writes ${inputs.length} topics to the analytics tables (${
      opts.sinks.map((s) => s.name).join(", ")
    })`,
  }));
}
