// A Prometheus summary (quantiles over a sliding time window, plus `_sum` and `_count`) whose observation costs a
// clock read, a few compares and one array increment: no allocation, no label hashing, no sorting. It replaces
// prom-client's Summary, whose observation pushes into a t-digest per age bucket and re-hashes the labels (about
// 5 % of a warm connect's CPU, BENCHMARKS.md §14.12). It registers into a prom-client Registry and reads out the
// same exposition: `name{quantile="0.5",<labels>}`, then `name_sum` and `name_count` per label set.
//
// Values are counted in log-linear buckets: 64 per power of two from 2^-24 s (60 ns) to 2^16 s (18 h), found from
// the float's exponent and top 6 mantissa bits. A quantile is the midpoint of the bucket holding its rank (the
// nearest-rank definition: the smallest observation with at least q of them at or below it), so it is within
// 0.78 % of the exact one; it is clamped to the window's exact smallest and largest observation. Smaller values
// (and 0) share one bucket read back as the window's minimum, larger ones one read back as its maximum.
//
// The window is Prometheus's (the Go client's MaxAge and AgeBuckets, as Centrifugo uses them): `ageBuckets` slots
// of `maxAgeSeconds / ageBuckets` each, an observation counted in the current slot only, the oldest slot emptied
// as a new one starts. A read merges every slot, so quantiles cover the last (ageBuckets - 1) slots and the
// current one's part: between maxAge - maxAge / ageBuckets and maxAge. `_sum` and `_count` cover the process's
// life. An empty window reads NaN, as in Go's client and Centrifugo.
import { endianness } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Metric, Registry } from 'prom-client';
import { reportUpdateError } from './update-errors.js';

/** Sub-buckets per power of two (2^SUB_BITS). */
const SUB_BITS = 6;
const MIN_EXP = -24;
const MAX_EXP = 16;
/** Bucket 0: below 2^MIN_EXP; 1..RANGE: the log-linear buckets; RANGE + 1: 2^MAX_EXP and above. */
const RANGE = (MAX_EXP - MIN_EXP) << SUB_BITS;
const BUCKETS = RANGE + 2;
const MIN_VALUE = 2 ** MIN_EXP;
const MAX_VALUE = 2 ** MAX_EXP;
/** The float's high 32 bits shifted to exponent and top mantissa bits, minus this, is the bucket (1-based). */
const INDEX_OFFSET = ((1023 + MIN_EXP) << SUB_BITS) - 1;

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
const HI = endianness() === 'LE' ? 1 : 0;

/** The bucket of a finite value. */
function bucketOf(v: number): number {
  if (!(v >= MIN_VALUE)) return 0;
  if (v >= MAX_VALUE) return RANGE + 1;
  scratch[0] = v;
  return (scratchWords[HI]! >>> (20 - SUB_BITS)) - INDEX_OFFSET;
}

/** The value a log-linear bucket (1..RANGE) reads back as: its midpoint. */
function midpointOf(bucket: number): number {
  const b = bucket - 1;
  return 2 ** (MIN_EXP + (b >> SUB_BITS)) * (1 + ((b & ((1 << SUB_BITS) - 1)) + 0.5) / (1 << SUB_BITS));
}

/** The nearest rank (1-based) of quantile q among n observations; q·n rounded against float noise (0.99·100). */
export function rankOf(q: number, n: number): number {
  return Math.max(1, Math.ceil(q * n - 1e-9));
}

/** One age bucket of one series: counts per value bucket, allocated at its first observation. */
interface Slot {
  counts: Uint32Array | null;
  n: number;
  min: number;
  max: number;
}

function emptySlot(): Slot {
  return { counts: null, n: 0, min: Infinity, max: -Infinity };
}

function clearSlot(s: Slot): void {
  if (s.n === 0) return;
  s.counts?.fill(0, bucketOf(s.min), bucketOf(s.max) + 1);
  s.n = 0;
  s.min = Infinity;
  s.max = -Infinity;
}

/** What a series needs from its summary (shared by every series of it). */
interface Window {
  readonly slotMs: number;
  readonly now: () => number;
}

/** One label set's summary. The object `labels()` returns: observe() is the hot path. */
export class SummarySeries {
  private readonly slots: Slot[];
  private current = 0;
  /** The start of the slot after the current one (the window's clock, ms). */
  private nextAt: number;
  count = 0;
  sum = 0;

  constructor(
    private readonly window: Window,
    ageBuckets: number,
    readonly labels: Readonly<Record<string, string>>,
    private readonly metricName: string,
  ) {
    this.slots = Array.from({ length: ageBuckets }, emptySlot);
    this.nextAt = this.slotEnd(window.now());
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) {
      reportUpdateError(this.metricName, new TypeError(`Value is not a valid number: ${value}`));
      return;
    }
    const now = this.window.now();
    if (now >= this.nextAt) this.rotate(now);
    const s = this.slots[this.current]!;
    if (s.counts === null) s.counts = new Uint32Array(BUCKETS);
    s.counts[bucketOf(value)]!++;
    s.n++;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
    this.count++;
    this.sum += value;
  }

  /** The window's quantiles (NaN when it holds no observation), after aging it to now. */
  quantiles(qs: readonly number[]): number[] {
    const now = this.window.now();
    if (now >= this.nextAt) this.rotate(now);
    let n = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const s of this.slots) {
      n += s.n;
      if (s.min < min) min = s.min;
      if (s.max > max) max = s.max;
    }
    if (n === 0) return qs.map(() => NaN);
    const lo = bucketOf(min);
    const hi = bucketOf(max);
    const out = new Array<number>(qs.length);
    // Ranks in ascending order, so one pass over the buckets answers every quantile.
    const order = qs.map((q, i) => ({ rank: rankOf(q, n), i })).sort((a, b) => a.rank - b.rank);
    let k = 0;
    let seen = 0;
    for (let b = lo; b <= hi && k < order.length; b++) {
      for (const s of this.slots) if (s.counts !== null) seen += s.counts[b]!;
      while (k < order.length && seen >= order[k]!.rank) {
        const v = b === 0 ? min : b === RANGE + 1 ? max : midpointOf(b);
        out[order[k]!.i] = Math.min(max, Math.max(min, v));
        k++;
      }
    }
    for (; k < order.length; k++) out[order[k]!.i] = max;
    return out;
  }

  /** Every count and the sum back to 0 (the series stays). */
  reset(): void {
    for (const s of this.slots) clearSlot(s);
    this.count = 0;
    this.sum = 0;
  }

  private slotEnd(now: number): number {
    return (Math.floor(now / this.window.slotMs) + 1) * this.window.slotMs;
  }

  /** `now` is at or past nextAt: the slots whose time is over are emptied and the current one moves on. */
  private rotate(now: number): void {
    const steps = Math.floor((now - this.nextAt) / this.window.slotMs) + 1;
    const n = this.slots.length;
    for (let i = 0; i < Math.min(steps, n); i++) {
      this.current = (this.current + 1) % n;
      clearSlot(this.slots[this.current]!);
    }
    this.nextAt = this.slotEnd(now);
  }
}

export interface WindowSummaryConfig<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  /** Quantiles exposed, 0..1. */
  percentiles: readonly number[];
  maxAgeSeconds: number;
  ageBuckets: number;
  registers?: readonly Registry[];
  /** The window's clock in ms (tests); default performance.now (monotonic). */
  now?: () => number;
}

/** One exposed sample, in prom-client's JSON shape (what Registry.getMetricsAsJSON and the workers' merge read). */
export interface SummaryValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

export interface SummaryJson {
  name: string;
  help: string;
  type: 'summary';
  aggregator: 'sum';
  values: SummaryValue[];
}

/** A summary metric with one SummarySeries per label set; registers into prom-client Registries. */
export class WindowSummary<L extends string = string> {
  readonly type = 'summary';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly labelNames: readonly L[];
  private readonly percentiles: readonly number[];
  private readonly ageBuckets: number;
  private readonly window: Window;
  private readonly series = new Map<string, SummarySeries>();

  constructor(config: WindowSummaryConfig<L>) {
    if (!(config.maxAgeSeconds > 0) || !Number.isInteger(config.ageBuckets) || config.ageBuckets < 1) {
      throw new RangeError(`summary ${config.name}: maxAgeSeconds must be > 0 and ageBuckets a positive integer`);
    }
    for (const q of config.percentiles) if (!(q > 0 && q <= 1)) throw new RangeError(`summary ${config.name}: quantile ${q} not in (0, 1]`);
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames ?? [];
    if (this.labelNames.includes('quantile' as L)) throw new Error('quantile is a reserved label name');
    this.percentiles = config.percentiles;
    this.ageBuckets = config.ageBuckets;
    this.window = { slotMs: (config.maxAgeSeconds * 1000) / config.ageBuckets, now: config.now ?? (() => performance.now()) };
    // prom-client's Registry reads only `name`, get() and reset() of a metric (lib/registry.js), which this has.
    for (const r of config.registers ?? []) r.registerMetric(this as unknown as Metric);
  }

  /** The series of one label set, by values in labelNames order or by name; created at its first use. */
  labels(...values: string[]): SummarySeries;
  labels(labels: Partial<Record<L, string | number>>): SummarySeries;
  labels(...args: [Partial<Record<L, string | number>>] | string[]): SummarySeries {
    const first = args[0];
    const values =
      typeof first === 'object' ? this.labelNames.map((n) => String(first[n] ?? '')) : (args as string[]).map(String);
    if (typeof first === 'object') {
      for (const k of Object.keys(first)) if (!this.labelNames.includes(k as L)) throw new Error(`summary ${this.name}: unknown label ${k}`);
    } else if (values.length !== this.labelNames.length) {
      throw new Error(`summary ${this.name}: ${values.length} label values for ${this.labelNames.length} labels`);
    }
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
      s = new SummarySeries(this.window, this.ageBuckets, labels, this.name);
      this.series.set(key, s);
    }
    return s;
  }

  /** One observation for a label set (a lookup per call: hot paths keep the series from labels()). */
  observe(labels: Partial<Record<L, string | number>>, value: number): void {
    this.labels(labels).observe(value);
  }

  /** Every series back to 0, kept (a fresh node lists some series at 0, as Centrifugo does). */
  reset(): void {
    for (const s of this.series.values()) s.reset();
  }

  /** prom-client's metric JSON: per series the quantiles (label `quantile` first), `_sum`, `_count`. */
  get(): Promise<SummaryJson> {
    const values: SummaryValue[] = [];
    for (const s of this.series.values()) {
      const qs = s.quantiles(this.percentiles);
      this.percentiles.forEach((q, i) => values.push({ labels: { quantile: q, ...s.labels }, value: qs[i]! }));
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }
}
