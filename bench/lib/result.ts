// The result of one workload against one peer, as written to bench/results/<ts>/<peer>.<workload>.<run>.json
// and read back by the table. Produced directly by the Socket.IO driver and adapted from gyre-bench's JSON
// report for the Centrifugo-protocol peers (bench/lib/gyre-bench-adapter.ts).
import type { Workload } from './workloads.js';

/** Latency summary in milliseconds (same fields as loadtest/src/histogram.ts LatencySummary). */
export interface LatencyMs {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface ServerUsage {
  /** CPU seconds (user+sys) the server used over the measured window. */
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
}

export interface BurstResult {
  readonly kind: 'burst';
  readonly connections: number;
  readonly subscribed: number;
  readonly failures: number;
  /** From the first connect attempt to the last subscribe reply. */
  readonly totalMs: number;
  readonly timeToSubscribed: LatencyMs;
  readonly server: ServerUsage | null;
}

export interface IdleResult {
  readonly kind: 'idle';
  readonly connections: number;
  readonly subscribed: number;
  readonly failures: number;
  readonly holdSec: number;
  /** (RSS at the end of the hold − RSS before the first connect) ÷ subscribed connections. */
  readonly bytesPerConnection: number | null;
  /** server: the hold window (CPU while idle); rssBefore is before the first connect. */
  readonly server: ServerUsage | null;
}

export interface FanoutResult {
  readonly kind: 'fanout';
  readonly subscribed: number;
  readonly failures: number;
  readonly published: number;
  readonly publishErrors: number;
  readonly expectedDeliveries: number;
  readonly deliveries: number;
  readonly measureSec: number;
  readonly deliveriesPerSec: number;
  readonly latency: LatencyMs;
  /** Server CPU seconds per 1,000,000 deliveries over the measured window; null without a sample. */
  readonly cpuSecondsPerMillion: number | null;
  readonly server: ServerUsage | null;
}

export type WorkloadResult = BurstResult | IdleResult | FanoutResult;

export interface RunRecord {
  readonly peer: string;
  readonly run: number;
  readonly workload: Workload;
  readonly startedAt: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly result?: WorkloadResult;
}

/**
 * Server CPU seconds per million deliveries, from the server's CPU rate (CPU s per wall s) over the stage and
 * the stage's delivery rate; null when nothing was delivered.
 */
export function cpuPerMillionAtRate(cpuPerSec: number, deliveriesPerSec: number): number | null {
  if (!(deliveriesPerSec > 0) || !Number.isFinite(cpuPerSec)) return null;
  return (cpuPerSec / deliveriesPerSec) * 1e6;
}
