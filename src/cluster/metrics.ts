// /metrics across worker processes (prom-client's AggregatorRegistry rules: counters and histograms summed,
// gauges summed unless their `aggregator` says otherwise). The worker that got the scrape asks the primary; the
// primary collects every live worker's metrics as JSON, adds its own (its process metrics and the worker
// restarts), and answers with the merged text. A worker that does not answer in time is left out of that scrape.
import { AggregatorRegistry } from 'prom-client';
import { primaryRegistry, registry } from '../metrics/registry.js';
import type { WorkerMetricsJson } from './messages.js';

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
    const merged = AggregatorRegistry.aggregate(parts);
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
