// Main-thread aggregation of worker ticks: totals, merged histograms, per-stage histograms, the
// per-second time series and the connect-rate buckets. No I/O, no timers.
import { LatencyRecorder } from './histogram.js';
import type { LatencySummary } from './histogram.js';
import { addRecoveryStats, emptyRecoveryStats } from './messages.js';
import type { RecoveryStats, WorkerTick } from './messages.js';
import { addSequenceStats, emptySequenceStats } from './sequence.js';
import type { SequenceStats } from './sequence.js';

export interface Totals {
  connected: number;
  connecting: number;
  settled: number;
  subscribedOnce: number;
  attempts: number;
  reconnected: number;
  deliveries: number;
  pings: number;
  failures: Record<string, number>;
  drops: Record<string, number>;
  reconnectFailures: Record<string, number>;
  seq: SequenceStats;
  recovery: RecoveryStats;
  /** ms from start until every pool had issued its first-attempt opens (null while any is still opening). */
  openSpanMs: number | null;
}

export interface SeriesPoint {
  /** Seconds since the run started. */
  t: number;
  connected: number;
  connecting: number;
  deliveriesPerSec: number;
  latency: LatencySummary;
  connectLatency: LatencySummary;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export class Aggregator {
  readonly connectHist = new LatencyRecorder();
  readonly reconnectHist = new LatencyRecorder();
  readonly latencyHist = new LatencyRecorder();
  /** Interval recorders since the last series sample. */
  private readonly sampleLatency = new LatencyRecorder();
  private readonly sampleConnect = new LatencyRecorder();
  /** Recorders of the current stage, if one is open. */
  private stage: { latency: LatencyRecorder; reconnect: LatencyRecorder } | null = null;
  private readonly latest = new Map<number, WorkerTick>();
  readonly connectBuckets = new Map<number, number>();
  readonly series: SeriesPoint[] = [];
  private lastSampleDeliveries = 0;
  private lastSampleAt = 0;

  constructor(private readonly startedAt: number) {
    this.lastSampleAt = startedAt;
  }

  ingest(tick: WorkerTick): void {
    this.latest.set(tick.workerId, tick);
    if (tick.connectHist !== null) {
      const r = LatencyRecorder.deserialize(tick.connectHist);
      this.connectHist.add(r);
      this.sampleConnect.add(r);
    }
    if (tick.reconnectHist !== null) {
      const r = LatencyRecorder.deserialize(tick.reconnectHist);
      this.reconnectHist.add(r);
      this.stage?.reconnect.add(r);
    }
    if (tick.latencyHist !== null) {
      const r = LatencyRecorder.deserialize(tick.latencyHist);
      this.latencyHist.add(r);
      this.sampleLatency.add(r);
      this.stage?.latency.add(r);
    }
    for (const [k, v] of Object.entries(tick.connectBuckets)) {
      const b = Number(k);
      this.connectBuckets.set(b, (this.connectBuckets.get(b) ?? 0) + v);
    }
  }

  totals(): Totals {
    const t: Totals = {
      connected: 0,
      connecting: 0,
      settled: 0,
      subscribedOnce: 0,
      attempts: 0,
      reconnected: 0,
      deliveries: 0,
      pings: 0,
      failures: {},
      drops: {},
      reconnectFailures: {},
      seq: emptySequenceStats(),
      recovery: emptyRecoveryStats(),
      openSpanMs: this.latest.size > 0 ? 0 : null,
    };
    for (const w of this.latest.values()) {
      if (w.recovery !== undefined) addRecoveryStats(t.recovery, w.recovery);
      const span = w.openSpanMs ?? null;
      t.openSpanMs = t.openSpanMs === null || span === null ? null : Math.max(t.openSpanMs, span);
      t.connected += w.connected;
      t.connecting += w.connecting;
      t.settled += w.settled;
      t.subscribedOnce += w.subscribedOnce;
      t.attempts += w.attempts;
      t.reconnected += w.reconnected;
      t.deliveries += w.deliveries;
      t.pings += w.pings;
      addCounts(t.failures, w.failures);
      addCounts(t.drops, w.drops);
      addCounts(t.reconnectFailures, w.reconnectFailures);
      addSequenceStats(t.seq, w.seq);
    }
    return t;
  }

  /** Appends one point to the per-second series (called by the runner about once per second). */
  sample(now: number): SeriesPoint {
    const tot = this.totals();
    const dt = Math.max(0.001, (now - this.lastSampleAt) / 1000);
    const p: SeriesPoint = {
      t: Math.round((now - this.startedAt) / 100) / 10,
      connected: tot.connected,
      connecting: tot.connecting,
      deliveriesPerSec: Math.round((tot.deliveries - this.lastSampleDeliveries) / dt),
      latency: this.sampleLatency.summary(),
      connectLatency: this.sampleConnect.summary(),
    };
    this.sampleLatency.reset();
    this.sampleConnect.reset();
    this.lastSampleDeliveries = tot.deliveries;
    this.lastSampleAt = now;
    this.series.push(p);
    return p;
  }

  beginStage(): void {
    this.stage = { latency: new LatencyRecorder(), reconnect: new LatencyRecorder() };
  }

  endStage(): { latency: LatencyRecorder; reconnect: LatencyRecorder } {
    const s = this.stage ?? { latency: new LatencyRecorder(), reconnect: new LatencyRecorder() };
    this.stage = null;
    return s;
  }

  /** Reconnect replies (connects of clients coming back) per 100 ms bucket from `fromMs` (epoch ms) on, as [offset ms, count] pairs. */
  connectRate(fromMs: number): { atMs: number; count: number }[] {
    const first = Math.floor(fromMs / 100);
    const keys = [...this.connectBuckets.keys()].filter((k) => k >= first).sort((a, b) => a - b);
    if (keys.length === 0) return [];
    const last = keys[keys.length - 1] ?? first;
    const out: { atMs: number; count: number }[] = [];
    for (let k = first; k <= last && out.length < 100_000; k++) {
      out.push({ atMs: (k - first) * 100, count: this.connectBuckets.get(k) ?? 0 });
    }
    return out;
  }
}
