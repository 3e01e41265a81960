// Per-connection and per-command metric updates, batched. prom-client hashes the label object on every inc()
// (also through a child from labels()), which a connect storm would pay several times per connection. Here a
// caller-chosen key (e.g. the command kind) finds a pending delta in a Map; the deltas reach prom-client once
// per macrotask, and before every scrape (flushMetrics), so a scrape never sees stale values.
import type { Counter, Gauge, LabelValues } from 'prom-client';

interface Pending<T extends string> {
  labels: LabelValues<T>;
  delta: number;
}

interface Flushable {
  flush(): void;
}

const batches: Flushable[] = [];
let scheduled = false;

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(flushMetrics);
}

/** Hands every pending delta to prom-client now (called per macrotask and by the scrape handler). */
export function flushMetrics(): void {
  scheduled = false;
  for (let i = 0; i < batches.length; i++) batches[i]!.flush();
}

class Batch<T extends string> implements Flushable {
  private readonly pending = new Map<string, Pending<T>>();

  constructor(private readonly apply: (labels: LabelValues<T>, delta: number) => void) {
    batches.push(this);
  }

  /** Adds `delta` for the label set `labels`, identified by `key` (same key ⇔ same labels; caller's duty). */
  add(key: string, labels: LabelValues<T>, delta: number): void {
    const p = this.pending.get(key);
    if (p !== undefined) p.delta += delta;
    else this.pending.set(key, { labels, delta });
    schedule();
  }

  flush(): void {
    if (this.pending.size === 0) return;
    for (const p of this.pending.values()) if (p.delta !== 0) this.apply(p.labels, p.delta);
    this.pending.clear();
  }
}

/** A counter whose increments are batched per label key. */
export class BatchedCounter<T extends string> {
  private readonly batch: Batch<T>;
  constructor(counter: Counter<T>) {
    this.batch = new Batch<T>((labels, delta) => counter.inc(labels, delta));
  }
  inc(key: string, labels: LabelValues<T>, n = 1): void {
    this.batch.add(key, labels, n);
  }
}

/** A gauge whose increments and decrements are batched per label key. */
export class BatchedGauge<T extends string> {
  private readonly batch: Batch<T>;
  constructor(gauge: Gauge<T>) {
    this.batch = new Batch<T>((labels, delta) => gauge.inc(labels, delta));
  }
  inc(key: string, labels: LabelValues<T>, n = 1): void {
    this.batch.add(key, labels, n);
  }
  dec(key: string, labels: LabelValues<T>, n = 1): void {
    this.batch.add(key, labels, -n);
  }
}
