// Latency recording: an HdrHistogram (pure JS build) plus fixed 1-2-5 buckets for reports. Values are
// recorded in microseconds; summaries are given in milliseconds. Serialisable so that worker threads can
// ship interval histograms to the main thread, which merges them.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

/** Bucket upper edges in µs: 1-2-5 series from 10 µs to 100 s; one extra overflow bucket at the end. */
export const BUCKET_EDGES_US: readonly number[] = (() => {
  const edges: number[] = [];
  for (let decade = 10; decade <= 100_000_000; decade *= 10) {
    edges.push(decade, decade * 2, decade * 5);
  }
  return edges.filter((e) => e <= 100_000_000);
})();

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface SerializedRecorder {
  hdr: string;
  buckets: number[];
}

export interface Bucket {
  /** Upper edge in ms; `null` for the overflow bucket. */
  le: number | null;
  count: number;
}

function newHdr(): Histogram {
  return build({ useWebAssembly: false, bitBucketSize: 32, numberOfSignificantValueDigits: 3, autoResize: true });
}

function bucketIndex(us: number): number {
  // Linear scan is fine: 24 edges, and most values land in the first dozen.
  for (let i = 0; i < BUCKET_EDGES_US.length; i++) {
    if (us <= (BUCKET_EDGES_US[i] ?? Infinity)) return i;
  }
  return BUCKET_EDGES_US.length;
}

export class LatencyRecorder {
  private hdr: Histogram = newHdr();
  private buckets: number[] = new Array<number>(BUCKET_EDGES_US.length + 1).fill(0);

  get count(): number {
    return this.hdr.totalCount;
  }

  /** Records one value given in milliseconds (fractions allowed). Negative values clamp to 0. */
  recordMs(ms: number): void {
    const us = ms > 0 ? Math.round(ms * 1000) : 0;
    this.hdr.recordValue(us);
    const i = bucketIndex(us);
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
  }

  add(other: LatencyRecorder): void {
    if (other.hdr.totalCount === 0) return;
    this.hdr.add(other.hdr);
    for (let i = 0; i < this.buckets.length; i++) this.buckets[i] = (this.buckets[i] ?? 0) + (other.buckets[i] ?? 0);
  }

  addSerialized(s: SerializedRecorder): void {
    this.add(LatencyRecorder.deserialize(s));
  }

  reset(): void {
    this.hdr.reset();
    this.buckets.fill(0);
  }

  serialize(): SerializedRecorder {
    return { hdr: encodeIntoCompressedBase64(this.hdr), buckets: this.buckets.slice() };
  }

  static deserialize(s: SerializedRecorder): LatencyRecorder {
    const r = new LatencyRecorder();
    const decoded = decodeFromCompressedBase64(s.hdr, 32, false);
    if (decoded.totalCount > 0) r.hdr.add(decoded);
    decoded.destroy();
    for (let i = 0; i < r.buckets.length; i++) r.buckets[i] = s.buckets[i] ?? 0;
    return r;
  }

  /** Serialises and resets: what a worker ships at each tick. `null` when nothing was recorded. */
  drain(): SerializedRecorder | null {
    if (this.hdr.totalCount === 0) return null;
    const s = this.serialize();
    this.reset();
    return s;
  }

  summary(): LatencySummary {
    const h = this.hdr;
    if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    const ms = (us: number): number => Math.round(us) / 1000;
    return {
      count: h.totalCount,
      min: ms(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue),
      mean: ms(h.mean),
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(h.maxValue),
    };
  }

  bucketList(): Bucket[] {
    return this.buckets.map((count, i) => {
      const edge = BUCKET_EDGES_US[i];
      return { le: edge === undefined ? null : edge / 1000, count };
    });
  }
}
