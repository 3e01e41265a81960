// /metrics across worker processes (prom-client's AggregatorRegistry rules: counters and histograms summed,
// gauges summed unless their `aggregator` says otherwise). The worker that got the scrape asks the primary; the
// primary collects every live worker's metrics as JSON, adds its own (its process metrics and the worker
// restarts), and answers with the merged text. A worker that does not answer in time is left out of that scrape.
// Summaries are merged here first (prom-client would add up their quantiles too): see withMergedSummaries.
import { AggregatorRegistry } from 'prom-client';
import { primaryRegistry, registry } from '../metrics/registry.js';
import type { WorkerMetricsJson } from './messages.js';

type MetricJson = WorkerMetricsJson[number];
type ValueJson = MetricJson['values'][number] & { metricName?: string };

const COLLECT_TIMEOUT_MS = 3000;

export interface MetricsWorker {
  readonly id: number;
  /** Sends a collect request with this id. */
  collect(requestId: number): void;
}

interface Collection {
  readonly waiting: Set<number>;
  readonly parts: WorkerMetricsJson[];
  done(): void;
}

/** Primary side: merges the workers' metrics on request. */
export class MetricsAggregator {
  private nextId = 1;
  private readonly collections = new Map<number, Collection>();

  /** Collects from `workers` and resolves with the merged text. */
  async aggregate(workers: readonly MetricsWorker[]): Promise<{ text: string; contentType: string }> {
    const id = this.nextId++;
    const parts: WorkerMetricsJson[] = [];
    await new Promise<void>((resolve) => {
      const waiting = new Set(workers.map((w) => w.id));
      let timer: NodeJS.Timeout | undefined = undefined;
      const finish = (): void => {
        clearTimeout(timer);
        this.collections.delete(id);
        resolve();
      };
      timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
      this.collections.set(id, { waiting, parts, done: finish });
      if (waiting.size === 0) finish();
      for (const w of workers) w.collect(id);
    });
    parts.push(await registry.getMetricsAsJSON(), await primaryRegistry.getMetricsAsJSON());
    const merged = AggregatorRegistry.aggregate(withMergedSummaries(parts));
    return { text: await merged.metrics(), contentType: merged.contentType };
  }

  /** A worker's answer to collect `requestId`. */
  answer(workerId: number, requestId: number, metrics: WorkerMetricsJson): void {
    const c = this.collections.get(requestId);
    if (c === undefined || !c.waiting.delete(workerId)) return;
    c.parts.push(metrics);
    if (c.waiting.size === 0) c.done();
  }

  /** A worker went away: stop waiting for it. */
  forget(workerId: number): void {
    for (const c of this.collections.values()) if (c.waiting.delete(workerId) && c.waiting.size === 0) c.done();
  }
}

/**
 * The parts with every summary replaced by one merged summary per name: `_sum` and `_count` added up, each
 * quantile the largest of the workers' (an upper bound: the quantile of all observations together cannot be
 * computed from the workers' quantiles; a worker without observations in the window reports NaN, which the max
 * leaves out, and the merged quantile is NaN only when every worker's is).
 */
export function withMergedSummaries(parts: readonly WorkerMetricsJson[]): WorkerMetricsJson[] {
  const summaries = new Map<string, { metric: MetricJson; values: Map<string, ValueJson> }>();
  const rest = parts.map((part) =>
    part.filter((m) => {
      if (String(m.type) !== 'summary') return true;
      let s = summaries.get(m.name);
      if (s === undefined) {
        s = { metric: { ...m, values: [] }, values: new Map() };
        summaries.set(m.name, s);
      }
      for (const v of m.values as ValueJson[]) {
        const key = `${v.metricName ?? ''}\u0000${JSON.stringify(Object.entries(v.labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
        const prev = s.values.get(key);
        if (prev === undefined) s.values.set(key, { ...v, labels: { ...v.labels } });
        else if (v.labels['quantile'] === undefined) prev.value += v.value;
        else if (Number.isNaN(prev.value) || v.value > prev.value) prev.value = v.value;
      }
      return false;
    }),
  );
  const merged: WorkerMetricsJson = [...summaries.values()].map((s) => ({ ...s.metric, values: [...s.values.values()] }));
  return merged.length > 0 ? [...rest, merged] : rest;
}
