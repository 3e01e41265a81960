// Per-connection and per-command metric updates, batched. prom-client hashes the label object on every inc()
// (also through a child from labels()), which a connect storm would pay several times per connection. Here a
// caller-chosen key (e.g. the command kind) finds a pending delta in a Map, and the deltas reach prom-client when
// the metric is read: each batched metric's `collect` hook (which prom-client runs in every `get()`, so in every
// scrape, registry read and cluster aggregation) applies them first, and flushMetrics applies all of them. A read
// never sees stale values, and a burst pays one label hash per label set and read, not per macrotask: flushing at
// every macrotask cost ~0.75 µs per label set, with ~10 label sets touched per connect and a flush every few
// connects in a burst.
// An update prom-client refuses (a label the metric does not declare) is dropped, counted and logged
// (./update-errors.ts): it must not throw out of the flush, which runs in a metric read or in the scrape handler.
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

/** Hands every pending delta to prom-client now (a read of one metric applies that metric's deltas by itself). */
export function flushMetrics(): void {
  for (let i = 0; i < batches.length; i++) batches[i]!.flush();
}

/** The part of a prom-client metric this module hooks: the optional `collect` that `get()` runs first. */
interface Collectable {
  collect?: (() => unknown) | undefined;
}

/** Makes every read of `metric` apply `batch` first, keeping a `collect` the metric already had. */
function flushOnRead(metric: Collectable, batch: Flushable): void {
  const prev = metric.collect;
  metric.collect = function collect(this: unknown): unknown {
    batch.flush();
    return prev?.call(this);
  };
}

/** Pending deltas per label key, handed to prom-client by `apply` on flush. */
abstract class Batched<T extends string> implements Flushable {
  private readonly pending = new Map<string, Pending<T>>();

  protected constructor(
    metric: Collectable,
    /** The prom-client metric's name, for the error report. */
    private readonly name: string,
    private readonly apply: (labels: LabelValues<T>, delta: number) => void,
  ) {
    batches.push(this);
    flushOnRead(metric, this);
  }

  /** Adds `n` for the label set `labels`, identified by `key` (same key ⇔ same labels; caller's duty). */
  inc(key: string, labels: LabelValues<T>, n = 1): void {
    const p = this.pending.get(key);
    if (p !== undefined) p.delta += n;
    else this.pending.set(key, { labels, delta: n });
  }

  flush(): void {
    if (this.pending.size === 0) return;
    // A delta that netted to 0 is applied too: a label set first seen that way (a client connected and left
    // between two reads) still gets its series, at 0. A flush runs per read, so the extra hash is cheap.
    for (const p of this.pending.values()) {
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
    super(counter as Collectable, nameOf(counter), (labels, delta) => counter.inc(labels, delta));
  }
}

/** A gauge whose increments and decrements are batched per label key (they net out before reaching it). */
export class BatchedGauge<T extends string> extends Batched<T> {
  constructor(gauge: Gauge<T>) {
    super(gauge as Collectable, nameOf(gauge), (labels, delta) => gauge.inc(labels, delta));
  }
  dec(key: string, labels: LabelValues<T>, n = 1): void {
    this.inc(key, labels, -n);
  }
}
