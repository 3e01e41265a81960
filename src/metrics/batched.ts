// Per-connection and per-command metric updates, batched. prom-client hashes the label object on every inc()
// (also through a child from labels()), which a connect storm would pay several times per connection. Here a
// caller-chosen key (e.g. the command kind) finds a pending delta in a Map; the deltas reach prom-client once
// per macrotask, and before every scrape (flushMetrics), so a scrape never sees stale values. An update prom-client
// refuses (a label the metric does not declare) is dropped, counted and logged (./update-errors.ts): it must not
// throw out of the flush, which runs in a setImmediate callback (an uncaught exception) or in the scrape handler.
import type { Counter, Gauge, LabelValues } from 'prom-client';
import { reportUpdateError } from './update-errors.js';

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

/** Pending deltas per label key, handed to prom-client by `apply` on flush. */
abstract class Batched<T extends string> implements Flushable {
  private readonly pending = new Map<string, Pending<T>>();

  protected constructor(
    /** The prom-client metric's name, for the error report. */
    private readonly name: string,
    private readonly apply: (labels: LabelValues<T>, delta: number) => void,
  ) {
    batches.push(this);
  }

  /** Adds `n` for the label set `labels`, identified by `key` (same key ⇔ same labels; caller's duty). */
  inc(key: string, labels: LabelValues<T>, n = 1): void {
    const p = this.pending.get(key);
    if (p !== undefined) p.delta += n;
    else this.pending.set(key, { labels, delta: n });
    schedule();
  }

  flush(): void {
    if (this.pending.size === 0) return;
    for (const p of this.pending.values()) {
      if (p.delta === 0) continue;
      try {
        this.apply(p.labels, p.delta);
      } catch (err) {
        reportUpdateError(this.name, err);
      }
    }
    this.pending.clear();
  }
}

/** prom-client's metrics carry their name at run time, though its typings do not declare it. */
function nameOf(metric: object): string {
  return 'name' in metric && typeof metric.name === 'string' ? metric.name : 'unknown';
}

/** A counter whose increments are batched per label key. */
export class BatchedCounter<T extends string> extends Batched<T> {
  constructor(counter: Counter<T>) {
    super(nameOf(counter), (labels, delta) => counter.inc(labels, delta));
  }
}

/** A gauge whose increments and decrements are batched per label key (they net out before reaching it). */
export class BatchedGauge<T extends string> extends Batched<T> {
  constructor(gauge: Gauge<T>) {
    super(nameOf(gauge), (labels, delta) => gauge.inc(labels, delta));
  }
  dec(key: string, labels: LabelValues<T>, n = 1): void {
    this.inc(key, labels, -n);
  }
}
