// A Prometheus histogram whose observation through a kept series is a bucket search and three additions: no
// allocation, no label check, no label hash. prom-client's Histogram, even through a child from labels(), builds a
// closure and two objects, checks the labels and hashes them on every observe (about 430 ns each, three per
// connect: the connect and subscribe command durations and the handshake duration; BENCHMARKS.md §14.17). This
// one registers into a prom-client Registry and reads out what prom-client's does, line for line: per series the
// `_bucket` lines with `le` first (cumulative, `+Inf` last), then `_sum` and `_count`. It is summed across workers
// like prom-client's (aggregator `sum`).
//
// A series lives as long as the metric: reset() zeroes it and hides it until its next observation or zero(), as
// prom-client drops a series on reset and re-creates it on the next observation. So a caller may keep a series.
import type { Metric, Registry } from 'prom-client';
import { reportUpdateError } from './update-errors.js';

type LabelValue = string | number;

/** One label set's counts. The object `labels()` returns: observe() is the hot path. */
export class HistogramSeries {
  /** Observations per bucket, not cumulative; the last slot counts those above the largest bound. */
  private readonly counts: Float64Array;
  count = 0;
  sum = 0;
  /** Listed in the exposition (false after a reset, until the next observation or zero()). */
  shown = false;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, LabelValue>>,
    private readonly metricName: string,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) {
      reportUpdateError(this.metricName, new TypeError(`Value is not a valid number: ${value}`));
      return;
    }
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += value;
    this.shown = true;
  }

  /** The cumulative count of bucket i (i < bounds.length). */
  cumulative(i: number): number {
    let n = 0;
    for (let k = 0; k <= i; k++) n += this.counts[k]!;
    return n;
  }

  clear(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.shown = false;
  }
}

export interface BucketHistogramConfig<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  /** Upper bounds, ascending (prom-client's default when absent). */
  buckets?: readonly number[];
  registers?: readonly Registry[];
}

/** One exposed sample in prom-client's JSON shapes (`sharedLabels` only in the text path's shape). */
interface HistogramValue {
  value: number;
  labels: Record<string, LabelValue>;
  metricName: string;
  sharedLabels?: Readonly<Record<string, LabelValue>>;
  /** Always null on buckets and undefined on `_sum`/`_count`, as prom-client's values carry it (no exemplars). */
  exemplar: null | undefined;
}

export interface HistogramJson {
  name: string;
  help: string;
  type: 'histogram';
  aggregator: 'sum';
  values: HistogramValue[];
}

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** The key part of a label the caller's object leaves out (prom-client keeps such a series apart). */
const ABSENT = '\u0001';

/** A histogram metric with one HistogramSeries per label set; registers into prom-client Registries. */
export class BucketHistogram<L extends string = string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly labelNames: readonly L[];
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, HistogramSeries>();
  /** The series of a metric without labels, made at once. */
  private readonly single: HistogramSeries | undefined;

  constructor(config: BucketHistogramConfig<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames ?? [];
    if (this.labelNames.includes('le' as L)) throw new Error('le is a reserved label keyword');
    const bounds = [...(config.buckets ?? DEFAULT_BUCKETS)];
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new RangeError(`histogram ${config.name}: buckets must be ascending`);
    }
    this.bounds = bounds;
    // A histogram without labels lists its one series from the start, as prom-client's does.
    this.single = this.labelNames.length === 0 ? this.seriesFor('', {}) : undefined;
    if (this.single !== undefined) this.single.shown = true;
    // prom-client's Registry reads only `name`, get() (or getForPromString()) and reset() of a metric.
    for (const r of config.registers ?? []) r.registerMetric(this as unknown as Metric);
  }

  /** The series of one label set, by values in labelNames order or by name; created at its first use. */
  labels(...values: LabelValue[]): HistogramSeries;
  labels(labels: Partial<Record<L, LabelValue>>): HistogramSeries;
  labels(...args: [Partial<Record<L, LabelValue>>] | LabelValue[]): HistogramSeries {
    const first = args[0];
    if (typeof first === 'object') {
      const given = first as Partial<Record<string, LabelValue>>;
      const labels: Record<string, LabelValue> = {};
      for (const k of Object.keys(given)) {
        if (!this.labelNames.includes(k as L)) throw new Error(`histogram ${this.name}: unknown label ${k}`);
        const v = given[k];
        if (v !== undefined) labels[k] = v;
      }
      const key = this.labelNames.map((n) => (n in labels ? String(labels[n]) : ABSENT)).join('\u0000');
      return this.seriesFor(key, labels);
    }
    const vals = args as LabelValue[];
    if (vals.length !== this.labelNames.length) {
      throw new Error(`histogram ${this.name}: ${vals.length} label values for ${this.labelNames.length} labels`);
    }
    const labels: Record<string, LabelValue> = {};
    this.labelNames.forEach((n, i) => (labels[n] = vals[i]!));
    return this.seriesFor(vals.map(String).join('\u0000'), labels);
  }

  /** One observation: `observe(value)` on a metric without labels, `observe(labels, value)` with them. */
  observe(value: number): void;
  observe(labels: Partial<Record<L, LabelValue>>, value: number): void;
  observe(a: number | Partial<Record<L, LabelValue>>, b?: number): void {
    if (typeof a === 'number') (this.single ?? this.labels({})).observe(a);
    else this.labels(a).observe(b ?? NaN);
  }

  /** Lists the series of `labels` with every bucket at 0 (its counts are zeroed, as prom-client's zero() does). */
  zero(labels: Partial<Record<L, LabelValue>>): void {
    const s = this.labels(labels);
    s.clear();
    s.shown = true;
  }

  /** Every series zeroed and hidden until it is observed again (prom-client empties the metric). */
  reset(): void {
    for (const s of this.series.values()) s.clear();
  }

  /** The text exposition's shape: bucket lines carry `le` and the series' labels as shared labels. */
  getForPromString(): Promise<HistogramJson> {
    return Promise.resolve(this.json(true));
  }

  /** The JSON shape (Registry.getMetricsAsJSON, the workers' merge): `le` first, then the series' labels. */
  get(): Promise<HistogramJson> {
    return Promise.resolve(this.json(false));
  }

  private json(shared: boolean): HistogramJson {
    const values: HistogramValue[] = [];
    const bucketName = `${this.name}_bucket`;
    const push = (metricName: string, own: Record<string, LabelValue>, s: HistogramSeries, value: number, exemplar: null | undefined): void => {
      if (shared) values.push({ value, labels: own, metricName, exemplar, sharedLabels: s.labels });
      else values.push({ value, labels: { ...own, ...s.labels }, metricName, exemplar });
    };
    for (const s of this.series.values()) {
      if (!s.shown) continue;
      for (let i = 0; i < this.bounds.length; i++) push(bucketName, { le: this.bounds[i]! }, s, s.cumulative(i), null);
      push(bucketName, { le: '+Inf' }, s, s.count, null);
      push(`${this.name}_sum`, {}, s, s.sum, undefined);
      push(`${this.name}_count`, {}, s, s.count, undefined);
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  private seriesFor(key: string, labels: Record<string, LabelValue>): HistogramSeries {
    let s = this.series.get(key);
    if (s === undefined) {
      s = new HistogramSeries(this.bounds, labels, this.name);
      this.series.set(key, s);
    }
    return s;
  }
}
